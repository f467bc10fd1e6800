"""Training helpers of a project, in their own file: clearing every optimiser, and a base
trainer whose reset_grads zeroes them all."""


def zero_grads(optimizers, zero_all=True):
    if zero_all:
        for opt in optimizers.values():
            opt.zero_grad()


class BaseTrainer:
    def reset_grads(self):
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
