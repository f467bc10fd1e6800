"""Model definitions for the speech-command experiments (imported by speech_train.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, 9, padding=4)
        self.bn = nn.BatchNorm1d(c_out)

    def forward(self, x):
        return F.max_pool1d(F.relu(self.bn(self.conv(x))), 2)


class M5(nn.Module):
    def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
        super().__init__()
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.blocks = nn.Sequential(ConvBlock(n_channel, n_channel), ConvBlock(n_channel, 2 * n_channel))
        self.fc1 = nn.Linear(2 * n_channel, n_output)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.bn1(self.conv1(x))), 4)
        x = self.blocks(x)
        x = F.avg_pool1d(x, x.shape[-1]).permute(0, 2, 1)
        x = self.fc1(x)
        return F.softmax(x, dim=2).squeeze(1)


class M5Logits(M5):
    def forward(self, x):
        x = F.max_pool1d(F.relu(self.bn1(self.conv1(x))), 4)
        x = self.blocks(x)
        return self.fc1(torch.flatten(F.adaptive_avg_pool1d(x, 1), 1))
