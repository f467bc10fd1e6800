# Near-miss: a LightningModule with manual optimisation (Lightning docs, "Manual Optimization",
# gradient clipping with self.clip_gradients): Trainer(precision="16-mixed") scales in
# manual_backward and unscales in clip_gradients. The stub base class stands for Lightning's.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def make():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    batches = [(torch.randn(8, 16), torch.randint(0, 4, (8,))) for _ in range(3)]
    return model, batches, optimizer


class _LightningModule(nn.Module):
    def manual_backward(self, loss):
        loss.backward()

    def clip_gradients(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm="norm"):
        torch.nn.utils.clip_grad_norm_(self.parameters(), gradient_clip_val)


class LitModel(_LightningModule):
    def __init__(self, net, opt):
        super().__init__()
        self.net = net
        self.automatic_optimization = False
        self._opt = opt

    def training_step(self, batch, batch_idx):
        opt = self._opt
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        opt.zero_grad()
        self.manual_backward(loss)
        self.clip_gradients(opt, gradient_clip_val=0.5, gradient_clip_algorithm="norm")
        opt.step()
        return loss


def train(model, batches, optimizer):
    lit = LitModel(model, optimizer)
    for i, batch in enumerate(batches):
        lit.training_step(batch, i)
