"""Court-keypoint heatmap training: no zero_grad anywhere in the loop.
After yastrebksv/TennisCourtDetector issue #7 ("You are right, thanks! I fixed it.")."""
import torch
import torch.nn as nn


def train(model, train_loader, optimizer, criterion, device, epoch, max_iters=1000):
    model.train()
    losses = []
    for iter_id, batch in enumerate(train_loader):
        out = model(batch[0].float().to(device))
        gt_hm_hp = batch[1].float().to(device)
        loss = criterion(torch.sigmoid(out), gt_hm_hp)
        loss.backward()
        optimizer.step()  # expect: GL601
        losses.append(loss.item())
        if iter_id > max_iters:
            break
    return sum(losses) / len(losses)


def main(model, loader, device, epochs):
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
    for epoch in range(epochs):
        train(model, loader, optimizer, criterion, device, epoch)
