"""GL5xx: graph cuts in forward, judged by whether parameters lose every path to the output."""

from __future__ import annotations

from code_rules_helpers import findings, lines

HEADER = """
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def test_detach_names_the_parameters_it_cuts_off(tmp_path):
    code = (
        HEADER
        + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        z = self.encoder(x)
        if x.size(0) > 1:
            z = z * 2
        z = z.detach()
        return self.head(z)
"""
    )
    found = findings(code, tmp_path, "GL5")
    assert [(f.code, f.location.line) for f in found] == [("GL501", 19)]
    assert found[0].message.startswith(
        "self.encoder (Linear) gets no gradient: `.detach()` at line 19"
    )
    assert found[0].extra["parameters"] == ["self.encoder"]


def test_straight_through_estimators_are_not_cuts(tmp_path):
    code = (
        HEADER
        + """
class VQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 4)
        self.codebook = nn.Embedding(16, 4)
        self.dec = nn.Linear(4, 8)

    def forward(self, x):
        z = self.enc(x)
        idx = torch.cdist(z, self.codebook.weight).argmin(-1)
        q = self.codebook(idx)
        loss = F.mse_loss(q, z.detach()) + 0.25 * F.mse_loss(z, q.detach())
        q = z + (q - z).detach()
        return self.dec(q), loss


class Gumbel(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 4)

    def forward(self, x):
        y_soft = self.enc(x).softmax(-1)
        y_hard = F.one_hot(y_soft.argmax(-1), 4).float()
        return (y_hard - y_soft).detach() + y_soft
"""
    )
    assert lines(code, tmp_path, "GL5") == []


def test_cut_on_one_path_with_another_path_left_is_not_reported(tmp_path):
    code = (
        HEADER
        + """
class Aux(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(8, 8)
        self.main = nn.Linear(8, 2)
        self.aux = nn.Linear(8, 1)

    def forward(self, x):
        f = self.trunk(x)
        mask = (f > 0).detach()
        aux = self.aux(f.detach())
        out = torch.where(mask[:, :2], self.main(f), torch.zeros(1))
        return out, aux
"""
    )
    assert lines(code, tmp_path, "GL5") == []


def test_no_grad_cuts_upstream_but_frozen_networks_inside_are_fine(tmp_path):
    code = (
        HEADER
        + """
class Bad(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.classes = nn.Parameter(torch.randn(3, 8))

    def forward(self, x):
        e = self.backbone(x)
        with torch.no_grad():
            e = F.normalize(e, dim=1)
        return e @ self.classes.t()


class Student(nn.Module):
    def __init__(self, teacher):
        super().__init__()
        self.student = nn.Linear(8, 3)
        self.teacher = copy.deepcopy(teacher)

    def forward(self, x):
        with torch.no_grad():
            t = self.teacher(x)
        return self.student(x), t

    @torch.no_grad()
    def ema(self):
        for s, t in zip(self.student.parameters(), self.teacher.parameters()):
            t.mul_(0.99).add_(s, alpha=0.01)
"""
    )
    found = findings(code, tmp_path, "GL5")
    assert [(f.code, f.location.line) for f in found] == [("GL502", 17)]
    assert "self.backbone (Linear)" in found[0].message


def test_python_and_numpy_conversions(tmp_path):
    code = (
        HEADER
        + """
class Mix(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(8, 1)
        self.scale = nn.Parameter(torch.ones(1))
        self.smooth = nn.Linear(8, 8)
        self.out = nn.Linear(8, 8)
        self.register_buffer("running", torch.zeros(8))

    def forward(self, x):
        g = float(torch.sigmoid(self.gate(x)).mean())
        s = self.scale.item()
        h = np.tanh(self.smooth(x).detach().cpu().numpy())
        h = torch.from_numpy(h)
        n = int(x.shape[0])
        if self.out(x).abs().max().item() > 100:
            raise ValueError
        r = torch.tensor(self.running.tolist())
        return self.out(h * g * s + r) / n
"""
    )
    assert lines(code, tmp_path, "GL5") == [(19, "GL503"), (20, "GL503"), (21, "GL503")]


def test_cut_inside_a_method_forward_calls(tmp_path):
    code = (
        HEADER
        + """
class GNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.msg = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.upd = nn.Linear(4, 4)

    def _aggregate(self, h, adj, i):
        return (adj @ self.msg[i](h)).detach()

    def forward(self, x, adj):
        h = x
        for i in range(2):
            h = self.upd(self._aggregate(h, adj, i))
        return h
"""
    )
    found = findings(code, tmp_path, "GL501")
    assert [f.location.line for f in found] == [16]
    assert "self.msg (ModuleList)" in found[0].message


def test_data_on_an_inherited_weight(tmp_path):
    code = (
        HEADER
        + """
class WSConv(nn.Conv2d):
    def forward(self, x):
        w = self.weight.data
        w = w - w.mean()
        return F.conv2d(x, w, self.bias)
"""
    )
    found = findings(code, tmp_path, "GL501")
    assert [f.location.line for f in found] == [11]
    assert "self.weight (Parameter)" in found[0].message


def test_detach_of_inputs_buffers_and_frozen_backbones(tmp_path):
    code = (
        HEADER
        + """
class Probe(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.fc = nn.Linear(8, 2)
        self.register_buffer("mean", torch.zeros(8))

    def forward(self, x):
        x = (x - self.mean.detach()).detach()
        return self.fc(self.backbone(x).detach())
"""
    )
    assert lines(code, tmp_path, "GL5") == []


def test_cuts_outside_forward_are_not_reported(tmp_path):
    code = (
        HEADER
        + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)

    def embed(self, x):
        return self.fc(x).detach()


def loss_fn(model, x, target_model):
    with torch.no_grad():
        target = target_model(x).detach()
    return F.mse_loss(model(x), target)
"""
    )
    assert lines(code, tmp_path, "GL5") == []


def test_recurrent_state_and_constructor_numbers_are_not_parameters(tmp_path):
    code = (
        HEADER
        + """
class LM(nn.Module):
    def __init__(self, backbone, temperature=2.0):
        super().__init__()
        self.backbone = backbone
        self.temperature = temperature
        self.lstm = nn.LSTM(8, 8)
        self.hidden = None
        self.out = nn.Linear(8, 4)

    def forward(self, x):
        if self.hidden is not None:
            h = tuple(t.detach() for t in self.hidden)
        else:
            h = None
        y, self.hidden = self.lstm(self.backbone(x), h)
        return self.out(y) / float(self.temperature)
"""
    )
    assert lines(code, tmp_path, "GL5") == []


def test_module_handed_to_the_constructor_is_a_gradient_source(tmp_path):
    code = (
        HEADER
        + """
class Wrapper(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.encoder(x).detach())
"""
    )
    found = findings(code, tmp_path, "GL501")
    assert [f.location.line for f in found] == [16]
    assert found[0].message.startswith("self.encoder gets no gradient")
