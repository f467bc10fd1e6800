"""Dual encoder whose final layer is a softmax, evaluated by a class whose default loss is
CrossEntropyLoss(). After IBM/dstc-noesis issue #18 ("You are correct ... Will fix")."""
import torch
import torch.nn as nn
from torch.nn import CrossEntropyLoss


class DualEncoder(nn.Module):
    def __init__(self, vocab, emb=300, hidden=300):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.encoder = nn.LSTM(emb, hidden, batch_first=True)
        self.final_layer = nn.Softmax(dim=1)

    def forward(self, context, options):
        _, (c, _) = self.encoder(self.embedding(context))
        _, (o, _) = self.encoder(self.embedding(options.flatten(0, 1)))
        o = o[-1].view(options.size(0), options.size(1), -1)
        logits = torch.bmm(o, c[-1].unsqueeze(2)).squeeze(2)
        output = self.final_layer(logits)
        return output


class Evaluator:
    def __init__(self, loss_func=CrossEntropyLoss(), batch_size=64):
        self.loss_func = loss_func
        self.batch_size = batch_size

    def evaluate(self, model, data):
        model.eval()
        total = 0.0
        for context, options, target in data:
            output = model(context, options)
            total += self.loss_func(output, target).item()  # expect: GL401
        return total
