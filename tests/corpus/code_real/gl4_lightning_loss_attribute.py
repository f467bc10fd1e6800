"""Transfer-learning LightningModule: forward returns torch.sigmoid, the loss function is an
attribute holding F.binary_cross_entropy_with_logits, called from another method.
After Lightning-AI/pytorch-lightning PR #7096 (merged, labelled bug)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import pytorch_lightning as pl


class TransferLearningModel(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.lr = lr
        self.__build_model()

    def __build_model(self):
        self.feature_extractor = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        _fc_layers = [nn.Linear(32, 256), nn.ReLU(), nn.Linear(256, 32), nn.Linear(32, 1)]
        self.fc = nn.Sequential(*_fc_layers)
        self.loss_func = F.binary_cross_entropy_with_logits

    def forward(self, x):
        x = self.feature_extractor(x).squeeze(-1).squeeze(-1)
        x = self.fc(x)
        return torch.sigmoid(x)

    def loss(self, logits, labels):
        return self.loss_func(input=logits, target=labels)  # expect: GL403

    def training_step(self, batch, batch_idx):
        x, y = batch
        y_logits = self(x)
        y_true = y.view((-1, 1)).type_as(x)
        return self.loss(y_logits, y_true)
