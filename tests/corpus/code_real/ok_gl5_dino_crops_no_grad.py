"""Near-miss: torchvision crops called in forward, the teacher run on the crops under
torch.no_grad (lucidrains/vit-pytorch dino.py): a transform holds no parameters to lose."""
import copy

import torch
import torch.nn as nn
from torchvision import transforms as T


class Dino(nn.Module):
    def __init__(self, net, image_size=32):
        super().__init__()
        self.local_crop = T.RandomResizedCrop((image_size, image_size), scale=(0.05, 0.4))
        self.global_crop = T.RandomResizedCrop((image_size, image_size), scale=(0.5, 1.0))
        self.student_encoder = net
        self.teacher_encoder = copy.deepcopy(net)
        for p in self.teacher_encoder.parameters():
            p.requires_grad = False

    def forward(self, x):
        local_one, local_two = self.local_crop(x), self.local_crop(x)
        global_one, global_two = self.global_crop(x), self.global_crop(x)
        s1, s2 = self.student_encoder(local_one), self.student_encoder(local_two)
        with torch.no_grad():
            t1, t2 = self.teacher_encoder(global_one), self.teacher_encoder(global_two)
        return ((s1 - t2) ** 2).mean() + ((s2 - t1) ** 2).mean()
