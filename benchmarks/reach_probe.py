"""The static estimate on public repositories against one real backward pass.

    python benchmarks/reach_probe.py [--only NAME ...]

For each factory of benchmarks/real_models/factories.py (a model of a public repository,
built as the static estimate builds it), reads the model record of its class from
`gradlint check --format json` over the whole repository and runs
`gradlint probe --format json factories.py:NAME`; prints both log10 gradient ratios and
their difference (benchmarks/REAL_CODE.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, gradlint_env

sys.path.insert(0, str(Path(__file__).parent / "real_models"))
from factories import REPOS

FACTORIES = Path(__file__).parent / "real_models" / "factories.py"
# factory -> (repository, file, class of the model record)
SAMPLE = {
    "nanogpt_block": ("nanoGPT", "model.py", "Block"),
    "nanogpt_mlp": ("nanoGPT", "model.py", "MLP"),
    "nanogpt_attention": ("nanoGPT", "model.py", "CausalSelfAttention"),
    "fsdp2_transformer": ("examples", "distributed/FSDP2/model.py", "Transformer"),
    "fsdp2_block": ("examples", "distributed/FSDP2/model.py", "TransformerBlock"),
    "fsdp2_attention": ("examples", "distributed/FSDP2/model.py", "Attention"),
    "style_transformer_net": ("examples", "fast_neural_style/neural_style/transformer_net.py", "TransformerNet"),
    "style_conv_layer": ("examples", "fast_neural_style/neural_style/transformer_net.py", "ConvLayer"),
    "style_residual_block": ("examples", "fast_neural_style/neural_style/transformer_net.py", "ResidualBlock"),
    "style_upsample_conv_layer": ("examples", "fast_neural_style/neural_style/transformer_net.py", "UpsampleConvLayer"),
    "pix2pix_generator": ("PyTorch-GAN", "implementations/pix2pix/models.py", "GeneratorUNet"),
    "pix2pix_unet_down": ("PyTorch-GAN", "implementations/pix2pix/models.py", "UNetDown"),
    "pix2pix_unet_up": ("PyTorch-GAN", "implementations/pix2pix/models.py", "UNetUp"),
    "pix2pix_discriminator": ("PyTorch-GAN", "implementations/pix2pix/models.py", "Discriminator"),
    "munit_content_encoder": ("PyTorch-GAN", "implementations/munit/models.py", "ContentEncoder"),
    "munit_style_encoder": ("PyTorch-GAN", "implementations/munit/models.py", "StyleEncoder"),
    "munit_residual_block": ("PyTorch-GAN", "implementations/munit/models.py", "ResidualBlock"),
    "context_encoder_generator": ("PyTorch-GAN", "implementations/context_encoder/models.py", "Generator"),
    "context_encoder_discriminator": ("PyTorch-GAN", "implementations/context_encoder/models.py", "Discriminator"),
    "cyclegan_residual_block": ("PyTorch-GAN", "implementations/cyclegan/models.py", "ResidualBlock"),
    "discogan_unet_down": ("PyTorch-GAN", "implementations/discogan/models.py", "UNetDown"),
    "stargan_residual_block": ("PyTorch-GAN", "implementations/stargan/models.py", "ResidualBlock"),
    "clip_bottleneck_64": ("CLIP", "clip/model.py", "Bottleneck"),
    "clip_bottleneck_256": ("CLIP", "clip/model.py", "Bottleneck"),
    "simple_vit_1d": ("vit-pytorch", "vit_pytorch/simple_vit_1d.py", "SimpleViT"),
    "simple_vit_1d_transformer": ("vit-pytorch", "vit_pytorch/simple_vit_1d.py", "Transformer"),
    "simple_vit_1d_attention": ("vit-pytorch", "vit_pytorch/simple_vit_1d.py", "Attention"),
    "simple_vit_1d_feedforward": ("vit-pytorch", "vit_pytorch/simple_vit_1d.py", "FeedForward"),
    "vit_1d_feedforward": ("vit-pytorch", "vit_pytorch/vit_1d.py", "FeedForward"),
    "cvt_feedforward_64": ("vit-pytorch", "vit_pytorch/cvt.py", "FeedForward"),
    "cvt_feedforward_384": ("vit-pytorch", "vit_pytorch/cvt.py", "FeedForward"),
    "twins_local_attention": ("vit-pytorch", "vit_pytorch/twins_svt.py", "LocalAttention"),
    "rvt_depthwise_conv": ("vit-pytorch", "vit_pytorch/rvt.py", "DepthWiseConv2d"),
    "sam_mask_decoder_mlp": ("segment-anything", "segment_anything/modeling/mask_decoder.py", "MLP"),
    "detr_mlp": ("detr", "models/detr.py", "MLP"),
    "super_resolution_net": ("examples", "super_resolution/model.py", "Net"),
    "rvt_transformer": ("vit-pytorch", "vit_pytorch/rvt.py", "Transformer"),
    "rvt_attention": ("vit-pytorch", "vit_pytorch/rvt.py", "Attention"),
    "ddpm_resnet_block": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/denoising_diffusion_pytorch.py",
                          "ResnetBlock"),
    "ddpm_unet": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/denoising_diffusion_pytorch.py", "Unet"),
    "guided_unet": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/guided_diffusion.py", "Unet"),
    "guided_prenorm": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/guided_diffusion.py", "PreNorm"),
    "guided_residual": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/guided_diffusion.py", "Residual"),
    "guided_resnet_block": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/guided_diffusion.py",
                            "ResnetBlock"),
    "sd_feedforward": ("stable-diffusion", "ldm/modules/attention.py", "FeedForward"),
    "litgpt_block": ("litgpt", "litgpt/model.py", "Block"),
    "whisper_residual_attention_block": ("whisper", "whisper/model.py", "ResidualAttentionBlock"),
    "nanogpt_gpt_bench": ("nanoGPT", "model.py", "GPT"),
    "cyclegan_generator": ("PyTorch-GAN", "implementations/cyclegan/models.py", "GeneratorResNet"),
    "cyclegan_discriminator": ("PyTorch-GAN", "implementations/cyclegan/models.py", "Discriminator"),
    "esrgan_generator": ("PyTorch-GAN", "implementations/esrgan/models.py", "GeneratorRRDB"),
    "readme_simple_vit": ("vit-pytorch", "vit_pytorch/simple_vit.py", "SimpleViT"),
    "readme_simple_vit_transformer": ("vit-pytorch", "vit_pytorch/simple_vit.py", "Transformer"),
    "readme_nest": ("vit-pytorch", "vit_pytorch/nest.py", "NesT"),
    "readme_mobile_vit": ("vit-pytorch", "vit_pytorch/mobile_vit.py", "MobileViT"),
    "vit_1d_main": ("vit-pytorch", "vit_pytorch/vit_1d.py", "ViT"),
    "readme_vit_3d": ("vit-pytorch", "vit_pytorch/vit_3d.py", "ViT"),
    "readme_parallel_vit": ("vit-pytorch", "vit_pytorch/parallel_vit.py", "ViT"),
    "readme_cross_vit": ("vit-pytorch", "vit_pytorch/cross_vit.py", "CrossViT"),
    "detr_encoder_layer": ("detr", "models/transformer.py", "TransformerEncoderLayer"),
    "patch_dropout_feedforward": ("vit-pytorch", "vit_pytorch/vit_with_patch_dropout.py", "FeedForward"),
    "patch_dropout_attention": ("vit-pytorch", "vit_pytorch/vit_with_patch_dropout.py", "Attention"),
    "sam_mlp_block": ("segment-anything", "segment_anything/modeling/common.py", "MLPBlock"),
    "dino_mlp": ("dino", "vision_transformer.py", "Mlp"),
    "dino_attention": ("dino", "vision_transformer.py", "Attention"),
    "dino_block": ("dino", "vision_transformer.py", "Block"),
    "whisper_attention": ("whisper", "whisper/model.py", "MultiHeadAttention"),
    "sd_cross_attention": ("stable-diffusion", "ldm/modules/attention.py", "CrossAttention"),
    "readme_mingpt": ("minGPT", "mingpt/model.py", "GPT"),
    "cfg_unet": ("denoising-diffusion-pytorch", "denoising_diffusion_pytorch/classifier_free_guidance.py", "Unet"),
    "tutorial_feedforward": ("pytorch-tutorial", "tutorials/01-basics/feedforward_neural_network/main.py", "NeuralNet"),
    "tutorial_convnet": ("pytorch-tutorial", "tutorials/02-intermediate/convolutional_neural_network/main.py",
                         "ConvNet"),
    "tutorial_rnn": ("pytorch-tutorial", "tutorials/02-intermediate/recurrent_neural_network/main.py", "RNN"),
    "clip_transformer": ("CLIP", "clip/model.py", "Transformer"),
    "whisper_audio_encoder": ("whisper", "whisper/model.py", "AudioEncoder"),
    "cvt_transformer": ("vit-pytorch", "vit_pytorch/cvt.py", "Transformer"),
    "flash_vit_transformer": ("vit-pytorch", "vit_pytorch/simple_flash_attn_vit.py", "Transformer"),
    "sam_two_way_transformer": ("segment-anything", "segment_anything/modeling/transformer.py", "TwoWayTransformer"),
    "yolov5_transformer_block": ("yolov5", "models/common.py", "TransformerBlock"),
    "clip_vision_transformer": ("CLIP", "clip/model.py", "VisionTransformer"),
    "vat_vit": ("vit-pytorch", "vit_pytorch/vat.py", "ViT"),
    "vaat_vit": ("vit-pytorch", "vit_pytorch/vaat.py", "ViT"),
    "cross_vit_image_embedder": ("vit-pytorch", "vit_pytorch/cross_vit.py", "ImageEmbedder"),
    "simple_uvit": ("vit-pytorch", "vit_pytorch/simple_uvit.py", "SimpleUViT"),
    "simple_uvit_transformer": ("vit-pytorch", "vit_pytorch/simple_uvit.py", "Transformer"),
    "tutorial_vae": ("pytorch-tutorial", "tutorials/03-advanced/variational_autoencoder/main.py", "VAE"),
    "qk_norm_attention": ("vit-pytorch", "vit_pytorch/simple_vit_with_qk_norm.py", "Attention"),
    "qk_norm_simple_vit": ("vit-pytorch", "vit_pytorch/simple_vit_with_qk_norm.py", "SimpleViT"),
    "mingpt_ddp_gpt": ("examples", "distributed/minGPT-ddp/mingpt/model.py", "GPT"),
    "dino_vision_transformer": ("dino", "vision_transformer.py", "VisionTransformer"),
}


def static_records(repo: str) -> dict[tuple[str, str], dict]:
    out = Path(tempfile.mkdtemp(prefix="gradlint-reach-")) / "report.json"
    subprocess.run([sys.executable, "-m", "gradlint", "check", "--no-cache", "--exit-zero", "--format", "json",
                    "-o", str(out), "--select", "GL1,GL2,GL3", "."], cwd=REPOS / repo, env=gradlint_env(ROOT),
                   check=False, capture_output=True)
    models = json.loads(out.read_text(encoding="utf-8")).get("models", []) if out.exists() else []
    return {(m["path"], m["class"]): m for m in models}


def probe(name: str) -> float | None:
    run = subprocess.run([sys.executable, "-m", "gradlint", "probe", "--format", "json", "--device", "cpu",
                          "--timeout", "300", f"{FACTORIES}:{name}"], env=gradlint_env(ROOT),
                         capture_output=True, text=True, check=False)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(f"  {name}: probe failed: {(run.stderr or run.stdout).strip().splitlines()[-1:]}", flush=True)
        return None
    target = report[0] if isinstance(report, list) else report
    targets = target.get("targets") if isinstance(target, dict) else None
    if targets:
        target = targets[0]
    return target.get("log10_grad_ratio") if isinstance(target, dict) else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    records: dict[str, dict] = {}
    print("| model | built with | static log10 ratio | measured log10 ratio | difference |")
    print("|---|---|---:|---:|---:|")
    for name, (repo, path, cls) in SAMPLE.items():
        if args.only and name not in args.only:
            continue
        if repo not in records:
            records[repo] = static_records(repo)
        record = records[repo].get((path, cls), {})
        static = record.get("log10_grad_ratio")
        measured = probe(name)
        diff = f"{abs(static - measured):.2f}" if static is not None and measured is not None else "-"
        show = lambda v: "-" if v is None else f"{v:+.2f}"
        print(f"| {repo} {cls} (`{name}`) | {record.get('built_with') or 'its defaults'} | {show(static)} | "
              f"{show(measured)} | {diff} |", flush=True)


if __name__ == "__main__":
    main()
