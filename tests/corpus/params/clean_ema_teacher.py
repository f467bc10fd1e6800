# Near-miss: a mean-teacher / EMA copy kept out of parameters() on purpose in a one-element
# list, and updated by hand from the student.
import copy

import torch
import torch.nn as nn


class MeanTeacher(nn.Module):
    def __init__(self, student):
        super().__init__()
        self.student = student
        teacher = copy.deepcopy(student).requires_grad_(False)
        self._teacher = [teacher]

    @torch.no_grad()
    def update(self, decay=0.99):
        for t, s in zip(self._teacher[0].parameters(), self.student.parameters()):
            t.mul_(decay).add_(s, alpha=1 - decay)

    def forward(self, x):
        with torch.no_grad():
            target = self._teacher[0](x)
        return self.student(x) - target


def make():
    return MeanTeacher(nn.Linear(4, 4)), torch.randn(3, 4)
