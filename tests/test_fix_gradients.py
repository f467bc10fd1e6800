"""Proof by measurement: the code each rule page shows as bad, run before and after its fix,
with one real backward pass. After the fix the gradient the finding said was lost or
distorted reaches the parameters."""

from __future__ import annotations

import copy
import re

import pytest
from fix_harness import checker, fix_in_memory

from gradlint.docs import load_doc

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _versions(code: str, index: int, tmp_path):
    """The namespaces of the page's bad example ``index`` as written and as fixed."""
    snippet = load_doc(code).bad_examples[index]
    fixed, applied, _, _ = fix_in_memory(tmp_path / "example.py", snippet, checker([code]))
    assert applied and fixed != snippet
    spaces = []
    for text in (snippet, fixed):
        space: dict = {"__name__": f"example_{code}"}
        exec(compile(text, f"{code}.py", "exec"), space)  # noqa: S102 (the page's own example)
        spaces.append(space)
    return spaces


def _same_weights(before, after):
    after.load_state_dict(before.state_dict(), strict=False)
    return before, after


def test_gl401_cross_entropy_gets_the_logits_gradient(tmp_path):
    old, new = _versions("GL401", 0, tmp_path)
    torch.manual_seed(0)
    before, after = _same_weights(old["Classifier"](), new["Classifier"]())
    x, y = torch.randn(64, 32), torch.randint(0, 10, (64,))
    grads = []
    for model in (before, after):
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        grads.append(model.fc.weight.grad.clone())
    logits = before.fc(x).detach()
    expected = ((F.softmax(logits, 1) - F.one_hot(y, 10)) / 64).T @ x
    assert torch.allclose(grads[1], expected, atol=1e-6)
    assert not torch.allclose(grads[0], expected, atol=1e-3)
    assert grads[0].norm() < 0.5 * grads[1].norm()  # squashed by the softmax Jacobian


def test_gl402_nll_loss_gets_log_probabilities(tmp_path):
    old, new = _versions("GL402", 0, tmp_path)
    torch.manual_seed(0)
    before, after = _same_weights(old["Tagger"](), new["Tagger"]())
    x, y = torch.randn(8, 5, 50), torch.randint(0, 17, (8,))
    grads = []
    for model in (before, after):
        model.zero_grad()
        F.nll_loss(model(x), y).backward()
        grads.append(model.out.bias.grad.clone())
    h, _ = after.rnn(x)
    logits = after.out(h[:, -1]).detach()
    expected = (F.softmax(logits, 1) - F.one_hot(y, 17)).mean(0)  # cross-entropy's gradient
    assert torch.allclose(grads[1], expected, atol=1e-6)
    assert grads[0].norm() < 0.5 * grads[1].norm()


def test_gl403_bce_with_logits_gradient_is_sigmoid_minus_target(tmp_path):
    old, new = _versions("GL403", 0, tmp_path)
    torch.manual_seed(0)
    before, after = _same_weights(old["Segmenter"](), new["Segmenter"]())
    image, mask = torch.randn(2, 3, 8, 8), torch.randint(0, 2, (2, 1, 8, 8)).float()
    grads = []
    for model in (before, after):
        model.zero_grad()
        F.binary_cross_entropy_with_logits(model(image), mask).backward()
        grads.append(model.head.bias.grad.clone())
    logits = after.head(torch.relu(after.body(image))).detach()
    assert torch.allclose(grads[1], (torch.sigmoid(logits) - mask).mean().reshape(1), atol=1e-6)
    assert grads[0].abs() < grads[1].abs()


def _step_recorder(space, model_key="model"):
    """Wraps the module-level optimizer: records each step's gradient and the fresh one."""
    real = space["optimizer"]
    record = []

    class Recorder:
        def __getattr__(self, name):
            return getattr(real, name)

        def step(self):
            record.append(space[model_key].weight.grad.clone())
            real.step()

    space["optimizer"] = Recorder()
    return record


def test_gl601_zero_grad_makes_steps_independent(tmp_path):
    old, new = _versions("GL601", 0, tmp_path)
    torch.manual_seed(0)
    X, y = torch.randn(16, 3), torch.randn(16, 1)
    new["model"].load_state_dict(old["model"].state_dict())
    steps = {}
    for name, space in (("before", old), ("after", new)):
        record = _step_recorder(space)
        space["fit"](X, y, epochs=2)
        steps[name] = record
    g1 = steps["after"][0]
    assert torch.allclose(steps["before"][0], g1)
    fresh_second = steps["after"][1]
    assert torch.allclose(steps["before"][1], g1 + fresh_second, atol=1e-6)  # accumulated
    assert not torch.allclose(fresh_second, g1 + fresh_second, atol=1e-6)


def test_gl602_the_step_uses_the_gradients(tmp_path):
    old, new = _versions("GL602", 0, tmp_path)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    moved = {}
    for name, space in (("before", old), ("after", new)):
        net = copy.deepcopy(model)
        start = net.weight.detach().clone()
        loader = [(torch.randn(8, 4), torch.randn(8, 1))]
        space["fit"](net, loader, torch.nn.MSELoss())
        moved[name] = (net.weight.detach() - start).norm().item()
    assert moved["before"] == 0.0 and moved["after"] > 0.0


def test_gl603_the_step_applies_this_iterations_gradient(tmp_path):
    old, new = _versions("GL603", 0, tmp_path)
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 1, 1)
    loader = [(torch.randn(2, 3, 4, 4), torch.randint(0, 2, (2, 1, 4, 4)).float())]
    moved = {}
    for name, space in (("before", old), ("after", new)):
        net = copy.deepcopy(model)
        start = net.weight.detach().clone()
        space["train_one_epoch"](net, loader, torch.optim.SGD(net.parameters(), lr=0.1))
        moved[name] = (net.weight.detach() - start).norm().item()
    assert moved["before"] == 0.0 and moved["after"] > 0.0


def test_gl604_clipping_bounds_the_update(tmp_path):
    old, new = _versions("GL604", 0, tmp_path)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    loader = [(torch.randn(8, 4) * 100, torch.randn(8, 1))]
    update = {}
    for name, space in (("before", old), ("after", new)):
        net = copy.deepcopy(model)
        start = torch.cat([p.detach().flatten() for p in net.parameters()])
        space["train"](net, loader, torch.optim.SGD(net.parameters(), lr=1.0), torch.nn.MSELoss())
        end = torch.cat([p.detach().flatten() for p in net.parameters()])
        update[name] = (end - start).norm().item()
    assert update["after"] <= 5.0 + 1e-4 < update["before"]


def test_gl605_the_update_lowers_the_loss(tmp_path):
    old, new = _versions("GL605", 0, tmp_path)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    X, y = torch.randn(32, 3), torch.randn(32, 1)
    change = {}
    for name, space in (("before", old), ("after", new)):
        net = copy.deepcopy(model)
        start = F.mse_loss(net(X), y).item()
        space["fit"](net, X, y, lr=0.05, epochs=1)
        change[name] = F.mse_loss(net(X), y).item() - start
    assert change["before"] > 0 > change["after"]


def _updated_by_the_optimiser(model, part) -> bool:
    if not list(model.parameters()):
        return False  # nothing for an optimiser to take
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    start = [p.detach().clone() for p in part]
    out = model(torch.randn(4, *model.example_shape))
    out = out if torch.is_tensor(out) else torch.stack(list(out.values()))
    out.pow(2).mean().backward()
    optimiser.step()
    return all(not torch.equal(a, b.detach()) for a, b in zip(start, part))


def test_gl701_the_listed_layers_now_train(tmp_path):
    old, new = _versions("GL701", 0, tmp_path)
    torch.manual_seed(0)
    results = {}
    for name, space in (("before", old), ("after", new)):
        model = space["MLP"](8, 3)
        model.example_shape = (8,)
        weights = [layer.weight for layer in model.layers]
        results[name] = _updated_by_the_optimiser(model, weights)
    assert results == {"before": False, "after": True}


def test_gl702_the_tensor_is_a_trained_parameter(tmp_path):
    old, new = _versions("GL702", 0, tmp_path)
    torch.manual_seed(0)
    results = {}
    for name, space in (("before", old), ("after", new)):
        model = space["ScratchLinear"](5, 2)
        model.example_shape = (5,)
        results[name] = _updated_by_the_optimiser(model, [model.W, model.b])
    assert results == {"before": False, "after": True}


def test_gl203_he_init_brings_the_first_layers_gradient_back(tmp_path):
    old, new = _versions("GL203", 0, tmp_path)
    ratios = {}
    for name, space in (("before", old), ("after", new)):
        torch.manual_seed(0)
        model = space["DeepMLP"]()
        model(torch.randn(256, 784)).pow(2).mean().backward()
        weights = [p for p in model.parameters() if p.dim() >= 2]
        rms = [p.grad.pow(2).mean().sqrt().item() for p in (weights[0], weights[-1])]
        ratios[name] = torch.log10(torch.tensor(rms[0] / rms[1])).item()
    # default init: the first layer's gradient is about a millionth of the last's
    assert ratios["before"] < -5 and abs(ratios["after"]) < 2, ratios


def _params_verifier():
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location(
        "verify_params_corpus", ROOT / "scripts" / "verify_params_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registration_cases():
    from conftest import ROOT

    folder = ROOT / "tests" / "corpus" / "params"
    return [
        p
        for p in sorted(folder.glob("*.py"))
        if re.search(r"#\s*expect:\s*GL70[12]", p.read_text(encoding="utf-8"))
        and "def train(" not in p.read_text(encoding="utf-8")
    ]


# no safe mechanical repair: int keys (a ModuleDict takes strings); pairs of layers appended
# to a list and unpacked in forward (a ModuleList takes modules)
NOT_FIXED = {"relation_dict.py", "snli_hidden_list.py"}


@pytest.mark.parametrize("path", _registration_cases(), ids=lambda p: p.name)
def test_fixed_registrations_train_in_the_real_corpus(path, tmp_path):
    """Each GL701/GL702 case of the labelled corpus (real code from issues and PRs), fixed:
    the labelled attribute's tensors are now parameters, and one optimiser step moves them."""
    verifier = _params_verifier()
    fixed, applied, _, after = fix_in_memory(
        path, path.read_text(encoding="utf-8"), checker(["GL7"])
    )
    if not applied:
        assert path.name in NOT_FIXED, path.name
        return
    assert not {f.code for f in after} & {"GL701", "GL702"}
    target = tmp_path / path.name
    target.write_text(fixed, encoding="utf-8")
    torch.manual_seed(0)
    model, example = verifier._load(target).make()
    attrs = [attr for _, code, attr in verifier.labels(path) if code in ("GL701", "GL702") and attr]
    registered = {id(p) for p in model.parameters()}
    watched = [
        (name, t, t.detach().clone())
        for attr in attrs
        for name, t in verifier._held_by(model, attr)
        if isinstance(t, torch.nn.Parameter)
    ]
    assert watched and all(id(t) in registered for _, t, _ in watched)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    verifier.probe_loss(verifier.call_model(model, example), "mse").backward()
    reached = [
        (name, t, before) for name, t, before in watched if t.grad is not None and t.grad.any()
    ]
    optimizer.step()
    # a weight the loss gives no gradient to (an LSTM's h2h on a zero state) stays put either way
    unchanged = [name for name, t, before in reached if torch.equal(t.detach(), before)]
    assert reached and not unchanged, unchanged


def test_gl801_clipping_sees_the_true_gradient(tmp_path):
    """The page's loop on the CPU's GradScaler (scale 65536): clipping the scaled gradients to
    norm 1 leaves an update 65536 times too small; after the fix the clip bounds the true one."""
    old, new = _versions("GL801", 0, tmp_path)
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    x = torch.randn(16, 8)
    with torch.no_grad():  # a small residual: the scaled gradients stay finite in float16
        loader = [(x, model(x) + 0.05 * torch.randn(16, 1))]
    update = {}
    for name, space in (("before", old), ("after", new)):
        net = copy.deepcopy(model)
        start = torch.cat([p.detach().flatten() for p in net.parameters()])
        code = space["train"].__code__.replace(
            co_consts=tuple("cpu" if c == "cuda" else c for c in space["train"].__code__.co_consts)
        )
        train = type(space["train"])(code, space)
        train(net, loader, torch.optim.SGD(net.parameters(), lr=1.0))
        end = torch.cat([p.detach().flatten() for p in net.parameters()])
        update[name] = (end - start).norm().item()
    assert update["before"] < 1e-4 and update["after"] > 100 * update["before"], update
