"""Voice-activity-detector fine-tuning utility: the loop steps without zeroing.
After snakers4/silero-vad PR #699 ("add optimizer.zero_grad() before loss.backward()", merged)."""
import torch
import torch.nn as nn


def train(config, loader, jit_model, decoder, optimizer, criterion, device):
    decoder.train()
    for i, (x, targets, masks) in enumerate(loader):
        x, targets, masks = x.to(device), targets.to(device), masks.to(device)
        with torch.no_grad():
            stft_out = jit_model._model.stft(x)
            encoder_out = jit_model._model.encoder(stft_out)
        out = decoder(encoder_out).squeeze(1)
        loss = criterion(out, targets)
        loss = (loss * masks).mean()
        loss.backward()
        optimizer.step()  # expect: GL601


def main(config, loader, jit_model, decoder, device):
    optimizer = torch.optim.Adam(decoder.parameters(), lr=config["lr"])
    criterion = nn.BCELoss(reduction="none")
    for epoch in range(config["epochs"]):
        train(config, loader, jit_model, decoder, optimizer, criterion, device)
