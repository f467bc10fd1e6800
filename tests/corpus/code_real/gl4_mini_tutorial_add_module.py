"""Logistic regression built with add_module, a softmax last, the loss called through
.forward. After vinhkhuc/PyTorch-Mini-Tutorials issue #1 (the author confirmed the softmax is
unnecessary)."""
import torch


def build_model(input_dim, output_dim):
    model = torch.nn.Sequential()
    model.add_module("linear", torch.nn.Linear(input_dim, output_dim, bias=False))
    model.add_module("softmax", torch.nn.Softmax(dim=1))
    return model


def train(model, loss, optimizer, x_val, y_val):
    optimizer.zero_grad()
    fx = model.forward(x_val)
    output = loss.forward(fx, y_val)  # expect: GL401
    output.backward()
    optimizer.step()
    return output.item()


def main(trX, trY):
    model = build_model(784, 10)
    loss = torch.nn.CrossEntropyLoss(reduction="mean")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for i in range(100):
        train(model, loss, optimizer, trX, trY)
