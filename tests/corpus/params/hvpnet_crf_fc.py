# Source: https://github.com/zjunlp/HVPNeT/issues/5
# Confirmed: the maintainer agreed "parameters.append(params) should be added after line 499,
# otherwise crf and fc will not be trained": their group is built and never appended.
import torch
import torch.nn as nn


class HMNeTNERModel(nn.Module):
    def __init__(self, num_labels=5):
        super().__init__()
        self.bert = nn.Sequential(nn.Linear(12, 16), nn.GELU())
        self.encoder_conv = nn.Linear(16, 16)
        self.fc = nn.Linear(16, num_labels)
        self.crf = nn.Linear(num_labels, num_labels)  # stands in for the CRF's transitions

    def forward(self, x):
        emissions = self.fc(torch.relu(self.encoder_conv(self.bert(x))))
        return self.crf(emissions)


def train(model: HMNeTNERModel, example):
    parameters = []
    params = {"lr": 3e-5, "weight_decay": 1e-2}
    params["params"] = list(model.bert.parameters())
    parameters.append({"params": model.bert.parameters(), "lr": 3e-5})
    parameters.append({"params": model.encoder_conv.parameters(), "lr": 3e-5})
    crf_fc = {"params": list(model.crf.parameters()) + list(model.fc.parameters()), "lr": 5e-2}
    optimizer = torch.optim.AdamW(parameters, lr=3e-5)  # expect: GL704
    for x in [example]:
        optimizer.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        optimizer.step()
    return crf_fc


def make():
    return HMNeTNERModel(), torch.randn(4, 12)
