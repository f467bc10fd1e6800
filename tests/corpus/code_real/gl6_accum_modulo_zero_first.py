"""Fine-tuning script with --accumulation_steps whose zero_grad stays at the top of the batch
loop (each step sees one micro-batch). The pattern pytorch/pytorch issue #47175 warns about."""
import torch


def train(args, model, train_dataloader, optimizer, scheduler):
    model.train()
    global_step = 0
    for step, batch in enumerate(train_dataloader):
        optimizer.zero_grad()  # expect: GL602
        outputs = model(**batch)
        loss = outputs[0] / args.gradient_accumulation_steps
        loss.backward()
        if (step + 1) % args.gradient_accumulation_steps == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            global_step += 1
    return global_step
