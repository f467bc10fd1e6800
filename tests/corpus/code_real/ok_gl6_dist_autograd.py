"""Near-miss: distributed autograd with a DistributedOptimizer (pytorch/examples
distributed/rpc): gradients live in each dist_autograd context, nothing to zero."""
import torch
import torch.distributed.autograd as dist_autograd
import torch.nn as nn
import torch.optim as optim
from torch.distributed.optim import DistributedOptimizer


def run_trainer(model, loader):
    criterion = nn.CrossEntropyLoss()
    opt = DistributedOptimizer(optim.SGD, model.parameter_rrefs(), lr=0.05)
    for epoch in range(10):
        for indices, offsets, target in loader:
            with dist_autograd.context() as context_id:
                output = model(indices, offsets)
                loss = criterion(output, target)
                dist_autograd.backward(context_id, [loss])
                opt.step(context_id)
