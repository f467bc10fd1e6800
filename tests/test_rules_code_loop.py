"""GL6xx: order of backward, zero_grad, step and clipping; hand-written updates; learning rates."""

from __future__ import annotations

import json

from code_rules_helpers import findings, lines
from conftest import run_cli

HEADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.cuda.amp import GradScaler
"""


def test_missing_zero_grad_in_nested_loops_and_helpers(tmp_path):
    code = (
        HEADER
        + """
def train(model, loader, opt, sched):
    opt.zero_grad()
    for epoch in range(10):
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        sched.step()


def step_fn(model, x, y, optimizer):
    F.mse_loss(model(x), y).backward()
    optimizer.step()


def fit(model, loader, optimizer):
    for x, y in loader:
        step_fn(model, x, y, optimizer)
"""
    )
    assert lines(code, tmp_path, "GL601") == [(13, "GL601"), (19, "GL601")]


def test_accumulation_closures_and_helpers_that_clear_are_fine(tmp_path):
    code = (
        HEADER
        + """
def accumulate(model, loader, opt, k=4):
    for i, (x, y) in enumerate(loader):
        (F.mse_loss(model(x), y) / k).backward()
        if (i + 1) % k == 0:
            opt.step()
            opt.zero_grad(set_to_none=True)


def lbfgs(model, x, y):
    opt = torch.optim.LBFGS(model.parameters())

    def closure():
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)


def manual(model, loader, lr=0.1):
    for x, y in loader:
        F.mse_loss(model(x), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad = None


def rl(env, policy, opt):
    for episode in range(10):
        obs = env.reset()
        for t in range(100):
            obs, reward, done, info = env.step(policy(obs).argmax().item())
        loss = policy(obs).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
"""
    )
    assert lines(code, tmp_path, "GL6") == []


def test_zero_grad_between_backward_and_step(tmp_path):
    code = (
        HEADER
        + """
class Trainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.scaler = GradScaler()

    def fit(self, loader):
        for x, y in loader:
            loss = F.mse_loss(self.model(x), y)
            self.scaler.scale(loss).backward()
            self.optimizer.zero_grad()
            self.scaler.step(self.optimizer)
            self.scaler.update()
"""
    )
    found = findings(code, tmp_path, "GL602")
    assert [f.location.line for f in found] == [17]
    assert "line 18" in found[0].message


def test_gan_with_two_optimizers_is_ordered_per_optimizer(tmp_path):
    code = (
        HEADER
        + """
def train(G, D, loader, opt_g, opt_d, z_dim=16):
    for real in loader:
        D.zero_grad()
        fake = G(torch.randn(real.size(0), z_dim))
        loss_d = F.softplus(D(fake.detach())).mean() + F.softplus(-D(real)).mean()
        loss_d.backward()
        opt_d.step()
        G.zero_grad()
        loss_g = F.softplus(-D(fake)).mean()
        loss_g.backward()
        opt_g.step()
"""
    )
    assert lines(code, tmp_path, "GL6") == []


def test_step_before_backward_and_clipping_order(tmp_path):
    code = (
        HEADER
        + """
def a(model, loader, opt):
    for x, y in loader:
        opt.zero_grad()
        opt.step()
        F.mse_loss(model(x), y).backward()


def b(model, loader, opt):
    for x, y in loader:
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        loss.backward()
        opt.step()
        torch.nn.utils.clip_grad_value_(model.parameters(), 1.0)


def c(model, loader, opt, scaler):
    for x, y in loader:
        opt.zero_grad()
        scaler.scale(F.mse_loss(model(x), y)).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
"""
    )
    assert lines(code, tmp_path, "GL6") == [(10, "GL603"), (18, "GL604"), (21, "GL604")]


def test_gradient_ascent_on_parameters_only(tmp_path):
    code = (
        HEADER
        + """
def sgd(model, lr=0.01):
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.data += lr * p.grad
            p.add_(p.grad, alpha=lr)
            p.data = p.data + lr * p.grad
            p.data.sub_(-lr * p.grad)
            p.data -= lr * p.grad
            p.add_(p.grad, alpha=-lr)
            p.add_(p.grad, alpha=scale)


def groups(optimizer):
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.data.add_(group["lr"] * p.grad)


def attack(model, x, y, eps=0.03):
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    x.data += eps * x.grad.sign()
    return x


def sam_first_step(model, rho=0.05):
    for p in model.parameters():
        p.add_(p.grad, alpha=rho)
"""
    )
    assert lines(code, tmp_path, "GL605") == [
        (10, "GL605"),
        (11, "GL605"),
        (12, "GL605"),
        (13, "GL605"),
        (22, "GL605"),
    ]


def test_learning_rates(tmp_path):
    code = (
        HEADER
        + """
from torch import optim

LR = 5.0
model = nn.Linear(2, 2)
a = optim.Adam(model.parameters(), lr=LR)
b = optim.AdamW(model.parameters(), lr=3e-4)
c = torch.optim.SGD(model.parameters(), 0.0)
d = optim.SGD([{"params": model.weight, "lr": 1e-9}, {"params": model.bias}], lr=0.1)
e = optim.Adam(model.parameters(), lr=args.lr)
"""
    )
    found = sorted(findings(code, tmp_path, "GL606"), key=lambda f: f.location.line)
    assert [(f.location.line, f.extra["lr"]) for f in found] == [(11, 5.0), (13, 0.0), (14, 1e-9)]
    assert "lr=0" in found[1].message


def test_learning_rate_ranges_come_from_the_project_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.gradlint]\nselect = ["GL6"]\n\n[tool.gradlint.options.GL606]\n"lr-ranges" = { Adam = [1e-6, 10.0] }\n',
        encoding="utf-8",
    )
    (tmp_path / "train.py").write_text(
        "import torch\nmodel = torch.nn.Linear(2, 2)\n"
        "a = torch.optim.Adam(model.parameters(), lr=1.0)\n"
        "b = torch.optim.SGD(model.parameters(), lr=100)\n",
        encoding="utf-8",
    )
    proc = run_cli("check", "--format", "json", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert [(f["line"], f["code"]) for f in data["findings"]] == [(4, "GL606")]


def test_cli_reports_loop_defects_in_text(tmp_path):
    (tmp_path / "script.py").write_text(
        "import torch\n"
        "model = torch.nn.Linear(3, 1)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.01)\n"
        "for step in range(100):\n"
        "    loss = model(torch.randn(8, 3)).pow(2).mean()\n"
        "    loss.backward()\n"
        "    opt.step()\n",
        encoding="utf-8",
    )
    proc = run_cli("check", "--select", "GL6", "script.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert "script.py:7:5: GL601" in proc.stdout


def test_rates_owned_by_a_schedule_are_not_judged(tmp_path):
    code = (
        HEADER
        + """
from torch.optim.lr_scheduler import LambdaLR


class NoamOpt:
    def __init__(self, model_size, factor, warmup, optimizer):
        self.optimizer = optimizer


def make(model):
    opt = NoamOpt(512, 2, 4000, torch.optim.Adam(model.parameters(), lr=0, betas=(0.9, 0.98), eps=1e-9))
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    scheduler = LambdaLR(optimizer, lr_lambda=lambda step: 512 ** -0.5 * min((step + 1) ** -0.5, (step + 1) * 4000 ** -1.5))
    plain = torch.optim.Adam(model.parameters(), lr=1.0)
    return opt, scheduler, plain
"""
    )
    assert lines(code, tmp_path, "GL606") == [(19, "GL606")]
