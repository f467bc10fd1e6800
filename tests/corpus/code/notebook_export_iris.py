#!/usr/bin/env python
# coding: utf-8

# # Iris classification with PyTorch

# In[1]:


import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split


# In[2]:


iris = load_iris()
X_train, X_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.2, random_state=42)
X_train = torch.FloatTensor(X_train)
X_test = torch.FloatTensor(X_test)
y_train = torch.LongTensor(y_train)
y_test = torch.LongTensor(y_test)


# In[3]:


class Model(nn.Module):
    def __init__(self, in_features=4, h1=8, h2=9, out_features=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.out = nn.Linear(h2, out_features)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.out(x)
        return x


# In[4]:


torch.manual_seed(41)
model = Model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)


# In[5]:


epochs = 100
losses = []
for i in range(epochs):
    y_pred = model.forward(X_train)
    probs = F.softmax(y_pred, dim=1)
    loss = F.cross_entropy(probs, y_train)  # expect: GL401
    losses.append(loss.detach().numpy())
    if i % 10 == 0:
        print(f"Epoch: {i} and loss: {loss}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


# In[6]:


with torch.no_grad():
    y_eval = model.forward(X_test)
    loss = F.cross_entropy(F.softmax(y_eval, dim=1), y_test)
print(loss)
print(np.mean(losses))
