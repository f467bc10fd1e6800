"""Near-miss: a training loop that reaches its zero_grad(params) function three calls deep
(openai/improved-diffusion train_util.py, 1bc7bbbd: run_loop -> run_step -> forward_backward)."""
import torch


def zero_grad(model_params):
    for param in model_params:
        if param.grad is not None:
            param.grad.detach_()
            param.grad.zero_()


class TrainLoop:
    def __init__(self, model, data, lr=1e-4, microbatch=4):
        self.model, self.data, self.microbatch = model, data, microbatch
        self.model_params = list(model.parameters())
        self.opt = torch.optim.AdamW(self.model_params, lr=lr)
        self.step = 0

    def run_loop(self):
        while True:
            batch = next(self.data)
            self.run_step(batch)
            self.step += 1

    def run_step(self, batch):
        self.forward_backward(batch)
        self.opt.step()

    def forward_backward(self, batch):
        zero_grad(self.model_params)
        for i in range(0, batch.shape[0], self.microbatch):
            loss = self.model(batch[i : i + self.microbatch]).mean()
            loss.backward()
