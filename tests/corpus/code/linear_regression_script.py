# Linear regression on the housing data, first PyTorch script
import pandas as pd
import torch

df = pd.read_csv("housing.csv")
X = torch.tensor(df[["rooms", "age", "distance"]].values, dtype=torch.float32)
y = torch.tensor(df["price"].values, dtype=torch.float32).unsqueeze(1)
X = (X - X.mean(0)) / X.std(0)

model = torch.nn.Linear(3, 1)
loss_fn = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    y_pred = model(X)
    loss = loss_fn(y_pred, y)
    loss.backward()
    optimizer.step()  # expect: GL601
    if epoch % 100 == 99:
        print(epoch, loss.item())

print("weights:", model.weight.data, "bias:", model.bias.data)
