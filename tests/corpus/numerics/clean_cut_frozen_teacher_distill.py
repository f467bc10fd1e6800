# Near-miss: the knowledge-distillation tutorial (beginner/knowledge_distillation_tutorial.py): a
# teacher loaded from a checkpoint, frozen and run under no_grad beside the student.
import copy

import torch
import torch.nn as nn


class Distiller(nn.Module):
    def __init__(self, teacher):
        super().__init__()
        self.teacher = copy.deepcopy(teacher)
        self.teacher.requires_grad_(False)
        self.student = nn.Linear(16, 4)

    def forward(self, x):
        with torch.no_grad():
            soft = torch.softmax(self.teacher(x) / 2.0, dim=-1)
        return torch.log_softmax(self.student(x) / 2.0, dim=-1) * soft


NOT_TRAINED = ("teacher",)


def make():
    torch.manual_seed(0)
    return Distiller(nn.Linear(16, 4)), torch.randn(8, 16)
