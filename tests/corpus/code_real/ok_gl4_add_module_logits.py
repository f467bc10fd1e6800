"""Near-miss: a Sequential filled with add_module that ends in a Linear; softmax only in
predict (the fixed PyTorch-Mini-Tutorials model)."""
import torch


def build_model(input_dim, output_dim):
    model = torch.nn.Sequential()
    model.add_module("linear_1", torch.nn.Linear(input_dim, 512, bias=False))
    model.add_module("relu_1", torch.nn.ReLU())
    model.add_module("linear_2", torch.nn.Linear(512, output_dim, bias=False))
    return model


def train(model, loss, optimizer, x_val, y_val):
    optimizer.zero_grad()
    output = loss.forward(model.forward(x_val), y_val)
    output.backward()
    optimizer.step()
    return output.item()


def predict(model, x_val):
    return torch.softmax(model.forward(x_val), dim=1).argmax(dim=1)


def main(trX, trY):
    model = build_model(784, 10)
    loss = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    train(model, loss, optimizer, trX, trY)
