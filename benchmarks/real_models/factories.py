"""Factories for `gradlint probe` on models of public repositories (benchmarks/reach_probe.py).

Each function builds one model as gradlint's static estimate builds it (a configuration's
defaults, the sizes the file's own model gives a block, the arguments of the file's own
`__main__`) and returns it with an example input. The repositories are not part of gradlint:
they are read from $REACH_REPOS (default ~/.cache/gradlint-reach/repos), one folder each,
as benchmarks/REAL_CODE.md lists them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import torch

REPOS = Path(os.environ.get("REACH_REPOS", Path.home() / ".cache" / "gradlint-reach" / "repos"))


def _module(repo: str, path: str):
    """The module at ``path`` of ``repo``, imported by its file (with the repository on sys.path)."""
    root = REPOS / repo
    sys.path.insert(0, str(root))
    name = f"reach_{repo}_{path}".replace("/", "_").replace("-", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, root / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _stubbed(*names: str) -> None:
    """Imports a model file makes for its training code only (datasets, EMA, a trainer) that
    are not installed here: empty modules whose every attribute is a placeholder."""
    import types

    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            full = ".".join(parts[:end])
            if full not in sys.modules:
                module = types.ModuleType(full)
                module.__getattr__ = lambda attr: object  # type: ignore[method-assign]
                sys.modules[full] = module


def _tokens(vocab: int, length: int = 32) -> torch.Tensor:
    return torch.randint(0, vocab, (2, length))


# -- karpathy/nanoGPT model.py: GPTConfig() defaults, for the model and each block ----------

def _nanogpt():
    return _module("nanoGPT", "model.py")


def nanogpt_gpt():
    m = _nanogpt()
    return m.GPT(m.GPTConfig()), _tokens(50304)


def nanogpt_block():
    m = _nanogpt()
    return m.Block(m.GPTConfig()), torch.randn(2, 32, 768)


def nanogpt_mlp():
    m = _nanogpt()
    return m.MLP(m.GPTConfig()), torch.randn(2, 32, 768)


def nanogpt_attention():
    m = _nanogpt()
    return m.CausalSelfAttention(m.GPTConfig()), torch.randn(2, 32, 768)


# -- pytorch/examples distributed/FSDP2/model.py: ModelArgs() defaults -------------------------

def _fsdp2():
    return _module("examples", "distributed/FSDP2/model.py")


def fsdp2_transformer():
    m = _fsdp2()
    return m.Transformer(m.ModelArgs()), _tokens(8, 16)


def fsdp2_block():
    m = _fsdp2()
    return m.TransformerBlock(m.ModelArgs()), torch.randn(2, 16, 16)


def fsdp2_attention():
    m = _fsdp2()
    return m.Attention(m.ModelArgs()), torch.randn(2, 16, 16)


# -- pytorch/examples fast_neural_style: TransformerNet() and its blocks -----------------------

def _style():
    return _module("examples", "fast_neural_style/neural_style/transformer_net.py").TransformerNet()


def style_transformer_net():
    return _style(), torch.randn(2, 3, 64, 64)


def super_resolution_net():
    """super_resolution/model.py Net (its upscale factor on stand-ins; main.py requires it): as
    the example's README runs it, upscale factor 3, on luminance crops of 64x64 (batch 16)."""
    return _module("examples", "super_resolution/model.py").Net(3), torch.randn(16, 1, 64, 64)


def style_conv_layer():
    return _style().conv1, torch.randn(2, 3, 64, 64)


def style_residual_block():
    return _style().res1, torch.randn(2, 128, 16, 16)


def style_upsample_conv_layer():
    return _style().deconv1, torch.randn(2, 128, 16, 16)


# -- eriklindernoren/PyTorch-GAN: models.py files (the training scripts run at import) ---------

def _pix2pix():
    return _module("PyTorch-GAN", "implementations/pix2pix/models.py").GeneratorUNet()


def pix2pix_generator():
    return _pix2pix(), torch.randn(2, 3, 256, 256)


def pix2pix_unet_down():
    return _pix2pix().down1, torch.randn(2, 3, 256, 256)


def pix2pix_unet_up():
    model = _pix2pix()
    return model.up1, (torch.randn(2, 512, 1, 1), torch.randn(2, 512, 2, 2))


def pix2pix_discriminator():
    m = _module("PyTorch-GAN", "implementations/pix2pix/models.py")
    return m.Discriminator(), (torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64))


def _munit():
    return _module("PyTorch-GAN", "implementations/munit/models.py")


def munit_content_encoder():
    return _munit().ContentEncoder(), torch.randn(2, 3, 64, 64)


def munit_style_encoder():
    return _munit().StyleEncoder(), torch.randn(2, 3, 64, 64)


def munit_residual_block():
    return _munit().Encoder().content_encoder.model[10], torch.randn(2, 256, 16, 16)


def context_encoder_generator():
    m = _module("PyTorch-GAN", "implementations/context_encoder/models.py")
    return m.Generator(), torch.randn(2, 3, 128, 128)


def context_encoder_discriminator():
    m = _module("PyTorch-GAN", "implementations/context_encoder/models.py")
    return m.Discriminator(), torch.randn(2, 3, 64, 64)


# -- openai/CLIP clip/model.py: a block on stand-in sizes, probed at two real ones -------------

def clip_bottleneck_64():
    return _module("CLIP", "clip/model.py").Bottleneck(64, 64), torch.randn(2, 64, 32, 32)


def clip_bottleneck_256():
    return _module("CLIP", "clip/model.py").Bottleneck(256, 128, stride=2), torch.randn(2, 256, 32, 32)


# -- lucidrains/vit-pytorch: the arguments of each file's own __main__ --------------------------

def _simple_vit_1d():
    m = _module("vit-pytorch", "vit_pytorch/simple_vit_1d.py")
    return m.SimpleViT(seq_len=256, patch_size=16, num_classes=1000, dim=1024, depth=6, heads=8, mlp_dim=2048)


def simple_vit_1d():
    return _simple_vit_1d(), torch.randn(2, 3, 256)


def simple_vit_1d_transformer():
    return _simple_vit_1d().transformer, torch.randn(2, 16, 1024)


def simple_vit_1d_attention():
    return _simple_vit_1d().transformer.layers[0][0], torch.randn(2, 16, 1024)


def simple_vit_1d_feedforward():
    return _simple_vit_1d().transformer.layers[0][1], torch.randn(2, 16, 1024)


def _vit_1d():
    m = _module("vit-pytorch", "vit_pytorch/vit_1d.py")
    return m.ViT(seq_len=256, patch_size=16, num_classes=1000, dim=1024, depth=6, heads=8, mlp_dim=2048,
                 dropout=0.1, emb_dropout=0.1)


def vit_1d_feedforward():
    return _vit_1d().transformer.layers[0][1], torch.randn(2, 16, 1024)


# -- more PyTorch-GAN blocks: on stand-in sizes (probed at a real one) or inside their model ---

def cyclegan_residual_block():
    m = _module("PyTorch-GAN", "implementations/cyclegan/models.py")
    return m.ResidualBlock(256), torch.randn(2, 256, 16, 16)


def discogan_unet_down():
    m = _module("PyTorch-GAN", "implementations/discogan/models.py")
    return m.UNetDown(64, 128), torch.randn(2, 64, 32, 32)


def stargan_residual_block():
    m = _module("PyTorch-GAN", "implementations/stargan/models.py")
    return m.GeneratorResNet().model[9], torch.randn(2, 256, 32, 32)



# -- lucidrains/vit-pytorch: blocks with a hand-written channel LayerNorm (its gain a weight) --

def cvt_feedforward_64():
    """cvt.py FeedForward on stand-ins for dim: probed at CvT's first stage width."""
    m = _module("vit-pytorch", "vit_pytorch/cvt.py")
    return m.FeedForward(64), torch.randn(2, 64, 14, 14)


def cvt_feedforward_384():
    m = _module("vit-pytorch", "vit_pytorch/cvt.py")
    return m.FeedForward(384), torch.randn(2, 384, 7, 7)


def twins_local_attention():
    """twins_svt.py LocalAttention on stand-ins for dim: at the width of Twins-SVT's first stage."""
    m = _module("vit-pytorch", "vit_pytorch/twins_svt.py")
    return m.LocalAttention(64), torch.randn(2, 64, 14, 14)


def rvt_depthwise_conv():
    """rvt.py DepthWiseConv2d, taken from inside RvT (built on stand-ins for its sizes and depth):
    here inside an RvT of the README's sizes."""
    m = _module("vit-pytorch", "vit_pytorch/rvt.py")
    model = m.RvT(image_size=256, patch_size=32, num_classes=1000, dim=1024, depth=6, heads=16, mlp_dim=2048)
    return model.transformer.layers[0][0].to_q.conv, torch.randn(2, 1024, 8, 8)


def _rvt_readme():
    m = _module("vit-pytorch", "vit_pytorch/rvt.py")
    return m.RvT(image_size=256, patch_size=32, num_classes=1000, dim=1024, depth=6, heads=16, mlp_dim=2048)


def rvt_transformer():
    """rvt.py Transformer (on stand-ins, its feature map's sizes an argument of forward, passed
    on with ``**fmap_dims``): inside an RvT of the README's sizes, on a class token and 8x8 patches."""
    return _rvt_readme().transformer, (torch.randn(2, 65, 1024), {"h": 8, "w": 8})


def rvt_attention():
    """rvt.py Attention (a depthwise-convolution query, rotary positions): the first block's of
    the README's RvT, with the rotary table its Transformer makes."""
    transformer = _rvt_readme().transformer
    x = torch.randn(2, 65, 1024)
    return transformer.layers[0][0], (x, transformer.pos_emb(x[:, 1:]), {"h": 8, "w": 8})


# -- lucidrains/denoising-diffusion-pytorch: RMSNorm's gain, PreNorm(dim, fn) as Unet builds it --

def ddpm_resnet_block():
    """denoising_diffusion_pytorch.py ResnetBlock on stand-ins for dim, dim_out (unequal, so with a
    1x1 res_conv): at the sizes of Unet(dim=64)'s last up block, ResnetBlock(64 + 64, 64)."""
    return _ddpm("denoising_diffusion_pytorch.py").ResnetBlock(128, 64), torch.randn(2, 128, 32, 32)


def _ddpm(name: str):
    _stubbed("torchvision", "tqdm.auto", "ema_pytorch", "accelerate")
    return _module("denoising-diffusion-pytorch", f"denoising_diffusion_pytorch/{name}")


def _guided_unet():
    return _ddpm("guided_diffusion.py").Unet(dim=64, dim_mults=(1, 2, 4, 8))  # as the file's own script builds it


def guided_prenorm():
    return _guided_unet().downs[0][2].fn, torch.randn(2, 64, 32, 32)


def guided_residual():
    return _guided_unet().downs[0][2], torch.randn(2, 64, 32, 32)


def guided_resnet_block():
    return _guided_unet().downs[0][0], torch.randn(2, 64, 32, 32)


def ddpm_unet():
    """denoising_diffusion_pytorch.py Unet on stand-ins for dim (the time embedding's sin/cos
    followed): probed at dim 32, a 32x32 image and time steps drawn like the image, N(0, 1),
    as the estimate assumes of every input."""
    model = _ddpm("denoising_diffusion_pytorch.py").Unet(dim=32, flash_attn=False)
    return model, (torch.randn(2, 3, 32, 32), torch.randn(2))


def guided_unet():
    """guided_diffusion.py Unet as the file's own script builds it, Unet(dim=64, dim_mults=(1, 2, 4, 8))."""
    return _guided_unet(), (torch.randn(2, 3, 32, 32), torch.randn(2))


# -- CompVis/stable-diffusion: FeedForward(dim) whose dim_out defaults through default() ------

def sd_feedforward():
    m = _module("stable-diffusion", "ldm/modules/attention.py")
    return m.FeedForward(320), torch.randn(2, 64, 320)


def _package(name: str, folder: Path, stubs: tuple[str, ...] = ()):
    """``name`` as a package of ``folder`` whose ``__init__`` is not run (it imports the
    training and serving code), with the modules in ``stubs`` empty."""
    import types

    package = types.ModuleType(name)
    package.__path__ = [str(folder)]
    sys.modules.setdefault(name, package)
    _stubbed(*stubs)
    sys.path.insert(0, str(folder.parent))


# -- Lightning-AI/litgpt and openai/whisper: blocks that a model of the file builds ----------

def litgpt_block():
    """litgpt/model.py Block as GPT(Config()) builds its transformer.h.0 (Config() defaults: a
    GPT-NeoX-like 4096-wide block), with the model's own rotary cache for its cos and sin."""
    import importlib

    _package("litgpt", REPOS / "litgpt" / "litgpt", ("litgpt.scripts", "litgpt.scripts.convert_hf_checkpoint"))
    config = importlib.import_module("litgpt.config").Config()
    model = importlib.import_module("litgpt.model")
    block = model.Block(config, 0)
    n_elem = int(config.rotary_percentage * config.head_size)
    cos, sin = model.build_rope_cache(16, n_elem)
    return block, (torch.randn(2, 16, config.n_embd), cos.unsqueeze(0), sin.unsqueeze(0))


def whisper_residual_attention_block():
    """whisper/model.py ResidualAttentionBlock on stand-ins for n_state, n_head: at the sizes of
    the "base" model (512 wide, 8 heads)."""
    import importlib

    _package("whisper", REPOS / "whisper" / "whisper", ("whisper.decoding", "whisper.transcribe"))
    model = importlib.import_module("whisper.model")
    return model.ResidualAttentionBlock(512, 8), torch.randn(2, 16, 512)


# -- models another file of their repository builds: a training script, or the README ------

def nanogpt_gpt_bench():
    """nanoGPT's bench.py: GPT(GPTConfig(block_size=1024, n_layer=12, n_head=12, n_embd=768,
    dropout=0, bias=False)), the call site the model record prefers to GPTConfig()'s defaults."""
    m = _nanogpt()
    return m.GPT(m.GPTConfig(block_size=1024, n_layer=12, n_head=12, n_embd=768, dropout=0, bias=False)), _tokens(50304)


def _cyclegan():
    m = _module("PyTorch-GAN", "implementations/cyclegan/models.py")
    return m, (3, 256, 256)


def cyclegan_generator():
    """cyclegan.py: GeneratorResNet(input_shape, opt.n_residual_blocks) with the argparse
    defaults (3x256x256, 9 blocks), then ``apply(weights_init_normal)``; batch 1 as there."""
    m, shape = _cyclegan()
    model = m.GeneratorResNet(shape, 9)
    model.apply(m.weights_init_normal)
    return model, torch.randn(1, *shape)


def cyclegan_discriminator():
    m, shape = _cyclegan()
    model = m.Discriminator(shape)
    model.apply(m.weights_init_normal)
    return model, torch.randn(1, *shape)


def esrgan_generator():
    """esrgan.py: GeneratorRRDB(opt.channels, filters=64, num_res_blocks=opt.residual_blocks)
    (3 channels, 23 blocks; no init applied), on a batch of 4 low-resolution 64x64 images."""
    _stubbed("torchvision.models")  # FeatureExtractor's vgg19, unused by the generator
    m = _module("PyTorch-GAN", "implementations/esrgan/models.py")
    return m.GeneratorRRDB(3, filters=64, num_res_blocks=23), torch.randn(4, 3, 64, 64)


def readme_simple_vit():
    """vit-pytorch's README: SimpleViT(image_size=256, patch_size=32, num_classes=1000,
    dim=1024, depth=6, heads=16, mlp_dim=2048) on torch.randn(1, 3, 256, 256)."""
    m = _module("vit-pytorch", "vit_pytorch/simple_vit.py")
    model = m.SimpleViT(image_size=256, patch_size=32, num_classes=1000, dim=1024, depth=6, heads=16, mlp_dim=2048)
    return model, torch.randn(1, 3, 256, 256)


def readme_simple_vit_transformer():
    model, _ = readme_simple_vit()
    return model.transformer, torch.randn(1, 64, 1024)


def readme_nest():
    m = _module("vit-pytorch", "vit_pytorch/nest.py")
    model = m.NesT(image_size=224, patch_size=4, dim=96, heads=3, num_hierarchies=3, block_repeats=(2, 2, 8),
                   num_classes=1000)
    return model, torch.randn(1, 3, 224, 224)


def readme_mobile_vit():
    m = _module("vit-pytorch", "vit_pytorch/mobile_vit.py")
    model = m.MobileViT(image_size=(256, 256), dims=[96, 120, 144],
                        channels=[16, 32, 48, 48, 64, 64, 80, 80, 96, 96, 384], num_classes=1000)
    return model, torch.randn(1, 3, 256, 256)


# -- position tables added to the patches (vit-pytorch, as their files or the README build them)


def vit_1d_main():
    """vit_pytorch/vit_1d.py's __main__: ViT(seq_len=256, patch_size=16, ...) on (4, 3, 256)."""
    m = _module("vit-pytorch", "vit_pytorch/vit_1d.py")
    model = m.ViT(seq_len=256, patch_size=16, num_classes=1000, dim=1024, depth=6, heads=8, mlp_dim=2048,
                  dropout=0.1, emb_dropout=0.1)
    return model, torch.randn(4, 3, 256)


def readme_vit_3d():
    m = _module("vit-pytorch", "vit_pytorch/vit_3d.py")
    model = m.ViT(image_size=128, frames=16, image_patch_size=16, frame_patch_size=2, num_classes=1000, dim=1024,
                  depth=6, heads=8, mlp_dim=2048, dropout=0.1, emb_dropout=0.1)
    return model, torch.randn(4, 3, 16, 128, 128)


def readme_parallel_vit():
    m = _module("vit-pytorch", "vit_pytorch/parallel_vit.py")
    model = m.ViT(image_size=256, patch_size=16, num_classes=1000, dim=1024, depth=6, heads=8, mlp_dim=2048,
                  num_parallel_branches=2, dropout=0.1, emb_dropout=0.1)
    return model, torch.randn(4, 3, 256, 256)


def readme_cross_vit():
    m = _module("vit-pytorch", "vit_pytorch/cross_vit.py")
    model = m.CrossViT(image_size=256, num_classes=1000, depth=4, sm_dim=192, sm_patch_size=16, sm_enc_depth=2,
                       sm_enc_heads=8, sm_enc_mlp_dim=2048, lg_dim=384, lg_patch_size=64, lg_enc_depth=3,
                       lg_enc_heads=8, lg_enc_mlp_dim=2048, cross_attn_depth=2, cross_attn_heads=8, dropout=0.1,
                       emb_dropout=0.1)
    return model, torch.randn(1, 3, 256, 256)


# -- torch's attention modules (detr's encoder layer: nn.MultiheadAttention on one tensor)


def detr_encoder_layer():
    m = _module("detr", "models/transformer.py")
    return m.TransformerEncoderLayer(64, 4, dim_feedforward=128, dropout=0.0), torch.randn(16, 2, 64)



# -- blocks on stand-ins whose estimate moves with their widths by under half a decade: the
# record gives the midpoint of two builds; probed at the widths their repository uses -------

def patch_dropout_feedforward():
    """vit_with_patch_dropout.py FeedForward: at the README ViT's dim=1024, mlp_dim=2048."""
    m = _module("vit-pytorch", "vit_pytorch/vit_with_patch_dropout.py")
    return m.FeedForward(1024, 2048), torch.randn(2, 16, 1024)


def patch_dropout_attention():
    m = _module("vit-pytorch", "vit_pytorch/vit_with_patch_dropout.py")
    return m.Attention(1024, heads=16, dim_head=64), torch.randn(2, 16, 1024)


def sam_mlp_block():
    """segment_anything/modeling/common.py MLPBlock: as TwoWayTransformer builds it (256, 2048)."""
    m = _module("segment-anything", "segment_anything/modeling/common.py")
    return m.MLPBlock(256, 2048), torch.randn(2, 16, 256)


def _dino_block():
    """The first block of dino's VisionTransformer() as it builds and initialises it (768
    wide, 12 heads, its own trunc_normal_ at std 0.02): where the record takes Mlp and
    Attention from."""
    _stubbed("utils")
    sys.modules["utils"].trunc_normal_ = torch.nn.init.trunc_normal_  # utils.py's copy of torch's
    m = _module("dino", "vision_transformer.py")
    return m.VisionTransformer().blocks[0]


def dino_mlp():
    return _dino_block().mlp, torch.randn(2, 16, 768)


def dino_attention():
    return _dino_block().attn, torch.randn(2, 16, 768)


def dino_block():
    return _dino_block(), torch.randn(2, 16, 768)


def whisper_attention():
    """whisper/model.py MultiHeadAttention: at the "base" model's 512 wide, 8 heads."""
    import importlib

    _package("whisper", REPOS / "whisper" / "whisper", ("whisper.decoding", "whisper.transcribe"))
    model = importlib.import_module("whisper.model")
    return model.MultiHeadAttention(512, 8), torch.randn(2, 16, 512)


def sd_cross_attention():
    """ldm/modules/attention.py CrossAttention as self-attention: at the first stage of the
    v1 UNet (320 wide, 8 heads of 40)."""
    m = _module("stable-diffusion", "ldm/modules/attention.py")
    return m.CrossAttention(320, heads=8, dim_head=40), torch.randn(2, 64, 320)


# -- karpathy/minGPT: GPT as its README builds it (get_default_config(), model_type 'gpt2') --

def readme_mingpt():
    m = _module("minGPT", "mingpt/model.py")
    config = m.GPT.get_default_config()
    config.model_type = "gpt2"
    config.vocab_size = 50257
    config.block_size = 1024
    return m.GPT(config), _tokens(50257, 16)



# -- lucidrains/denoising-diffusion-pytorch: the classifier-free guidance Unet its file's
# ``if __name__ == "__main__":`` block builds ----------------------------------------------

def cfg_unet():
    m = _ddpm("classifier_free_guidance.py")
    model = m.Unet(dim=64, dim_mults=(1, 2, 4, 8), num_classes=10, cond_drop_prob=0.5)
    return model, (torch.randn(2, 3, 64, 64), torch.randint(0, 1000, (2,)), torch.randint(0, 10, (2,)))


# -- yunjey/pytorch-tutorial: models its scripts build and train at the top level; only their
# imports, constants and classes are run here (the scripts download MNIST) -------------------

def _script_classes(repo: str, path: str):
    """The imports, constant assignments and definitions of a training script, without the
    rest of its top-level code."""
    import ast
    import types

    _stubbed("torchvision.transforms")
    source = (REPOS / repo / path).read_text(encoding="utf-8")
    tree = ast.parse(source)
    keep = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef))
            or (isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant))
            or (isinstance(s, ast.Assign) and "device" in ast.unparse(s.targets[0]))]
    module = types.ModuleType(f"script_{path}".replace("/", "_").replace("-", "_").removesuffix(".py"))
    exec(compile(ast.Module(body=keep, type_ignores=[]), path, "exec"), module.__dict__)
    return module


def tutorial_feedforward():
    m = _script_classes("pytorch-tutorial", "tutorials/01-basics/feedforward_neural_network/main.py")
    return m.NeuralNet(m.input_size, m.hidden_size, m.num_classes), torch.randn(100, 784)


def tutorial_convnet():
    m = _script_classes("pytorch-tutorial", "tutorials/02-intermediate/convolutional_neural_network/main.py")
    return m.ConvNet(m.num_classes), torch.randn(100, 1, 28, 28)


def tutorial_rnn():
    m = _script_classes("pytorch-tutorial", "tutorials/02-intermediate/recurrent_neural_network/main.py")
    return m.RNN(m.input_size, m.hidden_size, m.num_layers, m.num_classes), torch.randn(100, 28, 28)


def tutorial_vae():
    """The variational autoencoder tutorial's VAE at its script's sizes, on 128 flattened
    images (its batch_size); exp(log_var / 2) is the reparameterisation's activation."""
    _stubbed("torchvision.utils")
    m = _script_classes("pytorch-tutorial", "tutorials/03-advanced/variational_autoencoder/main.py")
    return m.VAE(m.image_size, m.h_dim, m.z_dim), torch.randn(m.batch_size, m.image_size)


# -- models whose layer count nothing in their file gives: the record is the midpoint of
# builds 2, 3 and 12 layers deep where the three lie within half a decade; probed at the
# depth and widths their repository builds them at -------------------------------------------

def clip_transformer():
    """clip/model.py Transformer as ViT-B/32's text encoder (512 wide, 12 layers, 8 heads),
    on a (sequence, batch, width) input as CLIP feeds it."""
    m = _module("CLIP", "clip/model.py")
    return m.Transformer(512, 12, 8), torch.randn(77, 2, 512)


def whisper_audio_encoder():
    """whisper/model.py AudioEncoder at the "tiny" model's sizes (384 wide, 6 heads, 4 layers)."""
    import importlib

    _package("whisper", REPOS / "whisper" / "whisper", ("whisper.decoding", "whisper.transcribe"))
    model = importlib.import_module("whisper.model")
    return model.AudioEncoder(80, 1500, 384, 6, 4), torch.randn(2, 80, 3000)


def cvt_transformer():
    """vit_pytorch/cvt.py Transformer as CvT's third stage (384 wide, 10 layers, 6 heads)."""
    m = _module("vit-pytorch", "vit_pytorch/cvt.py")
    return m.Transformer(384, proj_kernel=3, kv_proj_stride=2, depth=10, heads=6), torch.randn(2, 384, 14, 14)


def flash_vit_transformer():
    """vit_pytorch/simple_flash_attn_vit.py Transformer at the README SimpleViT's sizes, on
    flash attention (its other path calls an ``einsum`` the file never imports)."""
    m = _module("vit-pytorch", "vit_pytorch/simple_flash_attn_vit.py")
    return m.Transformer(1024, 6, 16, 64, 2048, use_flash=True), torch.randn(2, 64, 1024)


def sam_two_way_transformer():
    """segment_anything/modeling/transformer.py TwoWayTransformer as SAM's mask decoder builds
    it (depth 2, 256 wide, 8 heads, MLP 2048) on a 64x64 image embedding and 5 prompt tokens."""
    import importlib

    _package("segment_anything", REPOS / "segment-anything" / "segment_anything")
    m = importlib.import_module("segment_anything.modeling.transformer")
    model = m.TwoWayTransformer(depth=2, embedding_dim=256, num_heads=8, mlp_dim=2048)
    return model, (torch.randn(1, 256, 64, 64), torch.randn(1, 256, 64, 64), torch.randn(1, 5, 256))


def sam_mask_decoder_mlp():
    """segment_anything/modeling/mask_decoder.py MLP (num_layers from the file's calls, widths on
    stand-ins): as MaskDecoder builds its IoU head, MLP(256, 256, 4, 3), on 4 mask tokens."""
    import importlib

    _package("segment_anything", REPOS / "segment-anything" / "segment_anything")
    m = importlib.import_module("segment_anything.modeling.mask_decoder")
    return m.MLP(256, 256, 4, 3), torch.randn(16, 256)


def detr_mlp():
    """models/detr.py MLP (num_layers and output_dim from the file's one call, widths on
    stand-ins): DETR's box head MLP(hidden_dim, hidden_dim, 4, 3) at the default 256 wide,
    on 100 queries of a batch of 2."""
    _package("models", REPOS / "detr" / "models", stubs=("torchvision", "scipy.optimize", "util.box_ops",
                                                         "util.misc", "models.backbone", "models.matcher",
                                                         "models.segmentation", "models.transformer"))
    import importlib

    m = importlib.import_module("models.detr")
    return m.MLP(256, 256, 4, 3), torch.randn(2, 100, 256)


def yolov5_transformer_block():
    """models/common.py TransformerBlock as yolov5s-transformer's C3TR builds it (256, 4 heads, 1 layer)."""
    _stubbed("cv2", "pandas", "requests", "PIL.Image", "PIL.ImageOps", "ultralytics.utils.plotting",
             "utils.dataloaders", "utils.general", "utils.torch_utils")
    for module, name in (("utils", "TryExcept"), ("utils.torch_utils", "smart_inference_mode")):
        setattr(sys.modules[module], name, lambda *a, **k: (lambda f: f))  # decorators of the serving code
    m = _module("yolov5", "models/common.py")
    return m.TransformerBlock(256, 256, 4, 1), torch.randn(2, 256, 20, 20)



# -- images the constructor states: no example input, PROBE_BATCH (16) of them -------------------

def clip_vision_transformer():
    """clip/model.py VisionTransformer at ViT-B/32's sizes, on 16 images of its input_resolution."""
    m = _module("CLIP", "clip/model.py")
    return m.VisionTransformer(224, 32, 768, 12, 12, 512), torch.randn(16, 3, 224, 224)


def vat_vit():
    """vit_pytorch/vat.py ViT as the file's __main__ builds it, on 16 images of its image_size."""
    m = _module("vit-pytorch", "vit_pytorch/vat.py")
    model = m.ViT(image_size=256, patch_size=32, num_classes=1000, dim=256, heads=8, depth=4, mlp_dim=1024)
    return model, torch.randn(16, 3, 256, 256)


def cross_vit_image_embedder():
    """vit_pytorch/cross_vit.py ImageEmbedder as CrossViT's small branch (192 wide, 16-pixel
    patches of 224-pixel images), on 16 images."""
    m = _module("vit-pytorch", "vit_pytorch/cross_vit.py")
    return m.ImageEmbedder(dim=192, image_size=224, patch_size=16), torch.randn(16, 3, 224, 224)


def simple_uvit():
    """vit_pytorch/simple_uvit.py SimpleUViT as the file's __main__ builds and calls it."""
    m = _module("vit-pytorch", "vit_pytorch/simple_uvit.py")
    model = m.SimpleUViT(image_size=256, patch_size=32, num_classes=1000, dim=1024, depth=7, heads=16, mlp_dim=2048)
    return model, torch.randn(2, 3, 256, 256)


def simple_uvit_transformer():
    """vit_pytorch/simple_uvit.py Transformer as that SimpleUViT feeds it: 64 patches and 4
    register tokens of its (2, 3, 256, 256) images."""
    m = _module("vit-pytorch", "vit_pytorch/simple_uvit.py")
    return m.Transformer(1024, 7, 16, 64, 2048), torch.randn(2, 68, 1024)


def vaat_vit():
    """vit_pytorch/vaat.py ViT at vat.py's __main__ sizes, on 16 images of its image_size."""
    _stubbed("torchaudio.transforms")  # its audio branch only: the ViT takes images
    m = _module("vit-pytorch", "vit_pytorch/vaat.py")
    model = m.ViT(image_size=256, patch_size=32, num_classes=1000, dim=256, heads=8, depth=4, mlp_dim=1024)
    return model, torch.randn(16, 3, 256, 256)


# -- a norm gain built as torch.ones(...) / scale: a known constant init --------------------------

def qk_norm_attention():
    """vit_pytorch/simple_vit_with_qk_norm.py Attention (its q/k RMSNorm gain, first in
    named_parameters(), is ``torch.ones(heads, 1, dim_head) / dim_head ** 0.5``), 512 wide."""
    m = _module("vit-pytorch", "vit_pytorch/simple_vit_with_qk_norm.py")
    return m.Attention(512, heads=8, dim_head=64), torch.randn(2, 16, 512)


def qk_norm_simple_vit():
    """vit_pytorch/simple_vit_with_qk_norm.py SimpleViT at the README SimpleViT's sizes."""
    m = _module("vit-pytorch", "vit_pytorch/simple_vit_with_qk_norm.py")
    model = m.SimpleViT(image_size=256, patch_size=32, num_classes=1000, dim=1024, depth=6, heads=16, mlp_dim=2048)
    return model, torch.randn(2, 3, 256, 256)


def mingpt_ddp_gpt():
    """distributed/minGPT-ddp/mingpt/model.py GPT with GPTConfig() defaults (model_type 'gpt2':
    12 layers, 768 wide), on token ids as gradlint probe makes them (16 by 16)."""
    m = _module("examples", "distributed/minGPT-ddp/mingpt/model.py")
    return m.GPT(m.GPTConfig()), torch.randint(0, 50257, (16, 16))


def dino_vision_transformer():
    """dino's vision_transformer.py VisionTransformer() (ViT-B/16 at its defaults: a
    convolutional patch embedding, a class token and a position table), on 16 images of its
    img_size."""
    _stubbed("utils")
    sys.modules["utils"].trunc_normal_ = torch.nn.init.trunc_normal_  # utils.py's copy of torch's
    m = _module("dino", "vision_transformer.py")
    return m.VisionTransformer(), torch.randn(16, 3, 224, 224)
