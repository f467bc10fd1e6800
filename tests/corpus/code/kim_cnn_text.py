"""CNN for sentence classification (Kim, 2014)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class KimCNN(nn.Module):
    def __init__(self, vocab_size, embed_dim=300, n_filters=100, filter_sizes=(3, 4, 5), n_classes=2, dropout=0.5, pretrained=None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        if pretrained is not None:
            self.embedding.weight.data.copy_(pretrained)
        self.convs = nn.ModuleList([nn.Conv2d(1, n_filters, (fs, embed_dim)) for fs in filter_sizes])
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(len(filter_sizes) * n_filters, n_classes)

    def forward(self, text):
        x = self.embedding(text).unsqueeze(1)
        x = [F.relu(conv(x)).squeeze(3) for conv in self.convs]
        x = [F.max_pool1d(i, i.size(2)).squeeze(2) for i in x]
        x = self.dropout(torch.cat(x, 1))
        logit = self.fc(x)
        return F.softmax(logit, dim=1)


def train(train_iter, model, args):
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95)
    steps = 0
    model.train()
    for epoch in range(1, args.epochs + 1):
        for batch in train_iter:
            feature, target = batch.text, batch.label
            feature.t_(), target.sub_(1)
            optimizer.zero_grad()
            logit = model(feature)
            loss = F.nll_loss(logit, target)  # expect: GL402
            loss.backward()
            optimizer.step()
            steps += 1
            if steps % args.log_interval == 0:
                corrects = (torch.max(logit, 1)[1].view(target.size()).data == target.data).sum()
                print(f"Batch[{steps}] - loss: {loss.item():.6f} acc: {100.0 * corrects / batch.batch_size:.4f}%")
