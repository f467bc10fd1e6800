"""Near-miss: every optimiser is zeroed through a helper of another file (zero_all=True), and
through a base class's method defined in that file."""
from ok_gl6_helpers.ok_gl6_train_utils import BaseTrainer, zero_grads


def train(models, loader, optimizers, criterion):
    for x, y in loader:
        zero_grads(optimizers, zero_all=True)
        loss = criterion(models["g"](x), y)
        loss.backward()
        optimizers["g"].step()


class Trainer(BaseTrainer):
    def fit(self, loader):
        for x, y in loader:
            self.reset_grads()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
