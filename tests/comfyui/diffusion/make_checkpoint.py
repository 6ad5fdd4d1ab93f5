"""Builds a Stable Diffusion 1.5-shaped checkpoint with random weights, for
exercising a real ComfyUI txt2img pipeline on a machine with no model files
and no GPU.

    python make_checkpoint.py --comfyui PATH/TO/ComfyUI --variant tiny --seed 0 \
        --out PATH/TO/ComfyUI/models/checkpoints/sd15-random-tiny.safetensors \
        [--lora PATH/TO/ComfyUI/models/loras/sd15-random-tiny-lora.safetensors] [--check]

Run it with the Python that runs ComfyUI (it imports ComfyUI's own `comfy`
package from --comfyui; it needs torch and safetensors, nothing else).

What it writes
--------------
One fp16 .safetensors file with the key layout of a real SD1.5 checkpoint:
`model.diffusion_model.*` (UNet), `first_stage_model.*` (VAE),
`cond_stage_model.transformer.text_model.*` (CLIP ViT-L/14 text encoder).
The modules are ComfyUI's own classes (`comfy.supported_models.SD15`,
`comfy.ldm...UNetModel`, `comfy.sd1_clip.SD1ClipModel`, `AutoencoderKL`) and
the file is laid out by ComfyUI's own `state_dict_for_saving`, so
`CheckpointLoaderSimple` detects it as SD15 and loads every key.

- `--variant full`: SD1.5's exact architecture (UNet 859.5M parameters,
  about 2.1 GB).
- `--variant tiny`: the UNet cut to its first level (one ResBlock + one
  SpatialTransformer down, middle block, two up; 25.8M parameters), the
  CLIP text encoder and the VAE at full size (about 465 MB). ComfyUI's
  detection only asks an SD15 UNet for 320 model channels, a 768-wide
  cross-attention context, conv (not linear) transformer projections and no
  class embedding, so it is still detected as SD15; the script checks that.

Weights are random but reproducible: every tensor is drawn from its own
generator seeded from (--seed, tensor name), so the same command gives a
byte-identical file (the sha256 is printed at the end) and another seed gives
a different checkpoint of the same shape. Matrices are N(0, 1/fan_in), norm
weights 1, biases 0, CLIP's embeddings N(0, 0.02) / N(0, 0.01). (So `tiny`
and `full` built with the same seed share their CLIP and VAE weights.)

With random weights a pipeline's image is mostly decided by the noise seed,
and sampler settings barely show. Some layers are therefore calibrated on
fixed inputs (measured on one CPU thread, so the result does not depend on
the machine's core count, and each factor rounded to 3 significant digits):
- the UNet's cross-attention output projections (`attn2.to_out.0`) are
  scaled so that the prompt moves the UNet's output by 0.3 of its standard
  deviation (as drawn, it moves it by about 0.65, and at cfg 7 the guidance
  term then swamps everything, so cfg merely rescales the latent);
- the UNet's output conv (`out.2`) is scaled so that the UNet's output has
  unit standard deviation on a unit-variance latent at timesteps spread over
  the schedule, with CLIP contexts of a prompt and of the empty prompt;
- the VAE decoder's output conv (`conv_out`) is scaled so that decoding a
  unit-variance latent gives a standard deviation of 0.5 in [-1, 1] space,
  so pixels are mostly not clamped and small latent changes stay visible.

`--lora FILE` also writes a rank-4 random LoRA in the common kohya layout
(`lora_unet_<diffusers name>` / `lora_te_text_model_encoder_layers_*`, with
`.lora_up.weight`, `.lora_down.weight`, `.alpha`) for the variant's UNet
attention projections and CLIP's attention and MLP layers, each delta about
a fifth of the weight it patches (also seeded by --seed). Its UNet keys
follow the variant's layout, so a tiny LoRA is for tiny checkpoints and a
full one for full ones. The script checks that every LoRA key maps to a
weight through ComfyUI's own `comfy.lora` key maps.

`--check` then loads the written file the way `CheckpointLoaderSimple` does
and runs ComfyUI's KSampler + VAEDecode at 64x64 (seed 42, 4 steps, cfg 7,
euler, normal) against variations (seed 43, cfg 7.5, 5 steps, and with
`--lora` the LoRA at strengths 1.0 and 0.8), printing how many 8-bit pixel
levels each one changes.
"""

import argparse
import hashlib
import os
import sys
import time

SD15_UNET = {
    # The config ComfyUI's model_detection derives from a real SD1.5 checkpoint.
    "use_checkpoint": False,
    "image_size": 32,
    "use_spatial_transformer": True,
    "legacy": False,
    "adm_in_channels": None,
    "in_channels": 4,
    "out_channels": 4,
    "model_channels": 320,
    "num_res_blocks": [2, 2, 2, 2],
    "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
    "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    "channel_mult": [1, 2, 4, 4],
    "transformer_depth_middle": 1,
    "use_linear_in_transformer": False,
    "context_dim": 768,
    "use_temporal_resblock": False,
    "use_temporal_attention": False,
}

TINY_UNET = dict(
    SD15_UNET,
    num_res_blocks=[1],
    transformer_depth=[1],
    transformer_depth_output=[1, 1],
    channel_mult=[1],
)

# The SD1.x VAE, as comfy.sd.VAE builds it for a checkpoint with these keys.
VAE_DDCONFIG = {
    "double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3,
    "ch": 128, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [],
    "dropout": 0.0,
}
VAE_EMBED_DIM = 4

UNET_OUT = "model.diffusion_model.out.2.weight"
VAE_OUT = "first_stage_model.decoder.conv_out.weight"
CALIBRATION_PROMPT = "a photograph of an astronaut riding a horse"
# Prompt effect on the UNet output (std ratio) that makes cfg 7 -> 7.5 show
# most: tried 1.0 (as drawn, ~0.65), 0.3, 0.15, 0.1, 0.03 on tiny; 0.3 won.
CROSS_TARGET = 0.3
VAE_TARGET_STD = 0.5
LORA_RANK = 4
LORA_RELATIVE = 0.2


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--comfyui", required=True, help="ComfyUI's folder (to import comfy from)")
    p.add_argument("--variant", choices=["full", "tiny"], default="tiny",
                   help="full: SD1.5's UNet; tiny: its first level only (default)")
    p.add_argument("--seed", type=int, default=0, help="seed of every weight (default 0)")
    p.add_argument("--out", required=True, help="the checkpoint to write (.safetensors)")
    p.add_argument("--lora", help="also write a random LoRA for this checkpoint here")
    p.add_argument("--check", action="store_true",
                   help="load the result like CheckpointLoaderSimple and sample with it")
    return p.parse_args()


def import_comfy(folder):
    folder = os.path.abspath(folder)
    if not os.path.isfile(os.path.join(folder, "comfy", "sd.py")):
        sys.exit(f"{folder} is not a ComfyUI folder (no comfy/sd.py)")
    sys.path.insert(0, folder)
    import comfy.cli_args
    comfy.cli_args.args.cpu = True  # before comfy.model_management is imported
    import comfy.model_management  # noqa: F401
    import comfy.sd  # noqa: F401
    import comfy.supported_models  # noqa: F401


def generator(seed, name):
    import torch
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


def random_tensor(seed, name, shape):
    """The initial value of one weight, from its own generator (fp16-rounded)."""
    import torch
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "bias":
        t = torch.zeros(shape)
    elif len(shape) == 1:  # GroupNorm / LayerNorm scale
        t = torch.ones(shape)
    else:
        if name.endswith("token_embedding.weight"):
            std = 0.02
        elif name.endswith("position_embedding.weight"):
            std = 0.01
        else:
            fan_in = 1
            for d in shape[1:]:
                fan_in *= d
            std = fan_in ** -0.5
        t = torch.randn(shape, generator=generator(seed, name)) * std
    return t.to(torch.float16)


def layout(variant):
    """The checkpoint's keys and shapes, from ComfyUI's own modules (built on
    the meta device, so nothing is allocated), and the (meta) SD15 model."""
    import torch
    import comfy.supported_models
    from comfy.ldm.models.autoencoder import AutoencoderKL
    import comfy.sd1_clip

    unet_config = dict(SD15_UNET if variant == "full" else TINY_UNET)
    model_config = comfy.supported_models.SD15(unet_config)
    model_config.set_inference_dtype(torch.float32, None)
    with torch.device("meta"):
        model = model_config.get_model({}, device="meta")
        clip = comfy.sd1_clip.SD1ClipModel(device="meta", dtype=torch.float32)
        vae = AutoencoderKL(ddconfig=dict(VAE_DDCONFIG), embed_dim=VAE_EMBED_DIM)
    sd = model.state_dict_for_saving(clip.state_dict(), vae.state_dict())
    for k, v in sd.items():
        if not v.is_floating_point():
            raise SystemExit(f"unexpected non-float tensor {k}")
    return {k: tuple(v.shape) for k, v in sd.items()}, model


def check_detection(shapes, unet_config):
    """ComfyUI's model detection on the layout must pick SD15 and rebuild the
    same UNet config."""
    import torch
    import comfy.model_detection
    import comfy.supported_models
    meta = {k: torch.empty(s, device="meta") for k, s in shapes.items()}
    prefix = comfy.model_detection.unet_prefix_from_state_dict(meta)
    detected = comfy.model_detection.detect_unet_config(meta, prefix)
    config = comfy.model_detection.model_config_from_unet_config(detected, meta)
    if type(config) is not comfy.supported_models.SD15:
        raise SystemExit(f"ComfyUI detects {type(config).__name__}, not SD15")
    for k, v in unet_config.items():
        if detected.get(k) != v:
            raise SystemExit(f"detected {k}={detected.get(k)!r}, built with {v!r}")
    return type(config).__name__


def one_thread(fn, *args):
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            return fn(*args)
    finally:
        torch.set_num_threads(threads)


def scaled(t, factor):
    import torch
    return (t.float() * factor).to(torch.float16)


def cross_attention_outputs(sd):
    return [k for k in sorted(sd) if k.startswith("model.diffusion_model.")
            and k.endswith(".attn2.to_out.0.weight")]


def unet_response(unet, x, context):
    """The UNet's output std on x under both contexts, and how much of it the
    context changes: std(out(cond) - out(uncond)) / std(out)."""
    import torch
    outs = []
    for t in (999, 749, 499, 249, 49):
        outs.append(unet(x, torch.full((2,), float(t)), context=context))
    out = torch.cat(outs)
    return out.std().item(), ((out[0::2] - out[1::2]).std() / out.std()).item()


def calibrate_unet(model_patcher, clip, sd, seed):
    """Returns (cross-attention output scale, out.2 scale).

    A random UNet's output swings with the prompt about as much as with the
    latent, so at cfg 7 the guidance term dominates the noise prediction and
    cfg only rescales it (which the VAE's norms then largely undo). The
    cross-attention output projections are scaled so the prompt moves the
    output by CROSS_TARGET of its std (two secant steps from the measured
    value); then out.2 is scaled for a unit-std output. The inputs: one
    unit-variance 16x16 latent (what the UNet sees after c_in scaling) at
    timesteps over the schedule, under the CLIP encodings of a prompt and of
    the empty prompt (ComfyUI's KSampler runs cond and uncond like this)."""
    import torch
    unet = model_patcher.model.diffusion_model
    params = dict(unet.named_parameters())
    cond = clip.encode_from_tokens(clip.tokenize(CALIBRATION_PROMPT))
    uncond = clip.encode_from_tokens(clip.tokenize(""))
    context = torch.cat([cond, uncond]).float()
    # The same latent under both contexts, so the difference is the prompt's effect.
    x = torch.randn((1, 4, 16, 16), generator=generator(seed, "calibration/unet")).float()
    x = x.repeat(2, 1, 1, 1)
    prefix = "model.diffusion_model."
    keys = cross_attention_outputs(sd)

    def measure(factor):
        for k in keys:
            p = params[k[len(prefix):]]
            p.copy_(scaled(sd[k], factor).to(p.dtype))
        return unet_response(unet, x, context)

    factor = 1.0
    std, rel = measure(factor)
    print(f"UNet output std {std:.4g}, prompt effect {rel:.3f} of it")
    for _ in range(2):
        factor = sig3(factor * CROSS_TARGET / rel)
        std, rel = measure(factor)
        print(f"  cross-attention to_out x {factor}: output std {std:.4g},"
              f" prompt effect {rel:.3f}")
    out_scale = sig3(1.0 / std)
    print(f"  out.2 x {out_scale}")
    return factor, out_scale


def vae_output_std(vae, latent_format, seed):
    import torch
    z = torch.randn((1, 4, 16, 16), generator=generator(seed, "calibration/vae")).float()
    z = latent_format.process_out(z)
    first = vae.first_stage_model
    dtype = next(first.parameters()).dtype
    return first.decode(z.to(dtype)).float().std().item()


def sig3(x):
    return float(f"{x:.3g}")


def lora_layout(shapes, unet_config):
    """(lora base name, weight key in the checkpoint, (out, in)) for the UNet's
    attention projections and CLIP's attention/MLP layers, kohya naming."""
    import comfy.utils
    out = []
    for diffusers_key, ldm_key in sorted(comfy.utils.unet_to_diffusers(unet_config).items()):
        if not diffusers_key.endswith(".weight") or ".attentions." not in diffusers_key:
            continue
        if not any(p in diffusers_key for p in (".to_q.", ".to_k.", ".to_v.", ".to_out.0.")):
            continue
        key = "model.diffusion_model." + ldm_key
        base = "lora_unet_" + diffusers_key[:-len(".weight")].replace(".", "_")
        out.append((base, key, shapes[key]))
    prefix = "cond_stage_model.transformer.text_model.encoder.layers."
    for key in sorted(shapes):
        if not key.startswith(prefix) or not key.endswith(".weight"):
            continue
        layer, rest = key[len(prefix):-len(".weight")].split(".", 1)
        if rest in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                    "self_attn.out_proj", "mlp.fc1", "mlp.fc2"):
            base = f"lora_te_text_model_encoder_layers_{layer}_{rest.replace('.', '_')}"
            out.append((base, key, shapes[key]))
    return out


def build_lora(seed, shapes, unet_config):
    """A rank-4 LoRA whose deltas are about LORA_RELATIVE of the weights'
    scale: down ~ N(0, 1/in), up ~ N(0, c^2/r), alpha = rank."""
    import torch
    lora = {}
    for base, _key, shape in lora_layout(shapes, unet_config):
        n_out, n_in = shape[0], shape[1]
        down = torch.randn((LORA_RANK, n_in), generator=generator(seed, f"lora/{base}/down"))
        up = torch.randn((n_out, LORA_RANK), generator=generator(seed, f"lora/{base}/up"))
        lora[f"{base}.lora_down.weight"] = (down * n_in ** -0.5).to(torch.float16)
        lora[f"{base}.lora_up.weight"] = (up * LORA_RELATIVE * LORA_RANK ** -0.5).to(torch.float16)
        lora[f"{base}.alpha"] = torch.tensor(float(LORA_RANK), dtype=torch.float16)
    return lora


def check_lora_keys(lora, meta_model):
    """Every LoRA weight must map through comfy.lora's own key maps."""
    import torch
    import comfy.lora
    import comfy.sd1_clip
    key_map = comfy.lora.model_lora_keys_unet(meta_model, {})
    with torch.device("meta"):
        clip = comfy.sd1_clip.SD1ClipModel(device="meta", dtype=torch.float32)
    key_map = comfy.lora.model_lora_keys_clip(clip, key_map)
    bases = {k.rsplit(".", 2)[0] if k.endswith(".weight") else k.rsplit(".", 1)[0] for k in lora}
    missing = sorted(b for b in bases if b not in key_map)
    if missing:
        raise SystemExit(f"LoRA keys ComfyUI would not load: {missing[:5]}...")
    unet = sum(1 for b in bases if b.startswith("lora_unet_"))
    return unet, len(bases) - unet


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pixels_diff(a, b):
    import torch
    d = (torch.round(a * 255) - torch.round(b * 255)).abs()
    return d.max().item(), d.mean().item()


def sampling_check(ckpt, lora_path):
    """Loads the file as CheckpointLoaderSimple does and runs ComfyUI's
    KSampler + VAEDecode code paths on variations of one 64x64 job."""
    import comfy.sd
    import comfy.utils
    import folder_paths
    import nodes

    model, clip, vae = comfy.sd.load_checkpoint_guess_config(
        ckpt, output_vae=True, output_clip=True,
        embedding_directory=folder_paths.get_folder_paths("embeddings"))[:3]
    print(f"check: CheckpointLoaderSimple's loader picks {type(model.model.model_config).__name__}"
          f" ({type(model.model).__name__}, {model.model.model_type.name})")

    def run(model=model, clip=clip, seed=42, steps=4, cfg=7.0):
        pos = nodes.CLIPTextEncode().encode(clip, "a red fox in snow")[0]
        neg = nodes.CLIPTextEncode().encode(clip, "blurry")[0]
        latent = nodes.EmptyLatentImage().generate(64, 64, 1)[0]
        out = nodes.common_ksampler(model, seed, steps, cfg, "euler", "normal", pos, neg,
                                    latent, denoise=1.0)[0]
        return nodes.VAEDecode().decode(vae, out)[0]

    base = run()
    print(f"check: 64x64 seed 42 steps 4 cfg 7: pixel std {base.std().item() * 255:.1f} levels")
    for label, kw in (("same again", {}), ("seed 43", {"seed": 43}), ("cfg 7.5", {"cfg": 7.5}),
                      ("steps 5", {"steps": 5})):
        mx, mean = pixels_diff(base, run(**kw))
        print(f"check: {label:>10}: max {mx:.0f} mean {mean:.2f} levels")
    if lora_path:
        lora = comfy.utils.load_torch_file(lora_path, safe_load=True)
        lora_runs = {}
        for strength in (1.0, 0.8):
            m, c = comfy.sd.load_lora_for_models(model, clip, lora, strength, strength)
            lora_runs[strength] = run(model=m, clip=c)
        mx, mean = pixels_diff(base, lora_runs[1.0])
        print(f"check: LoRA 1.0 vs none: max {mx:.0f} mean {mean:.2f} levels")
        mx, mean = pixels_diff(lora_runs[1.0], lora_runs[0.8])
        print(f"check: LoRA 1.0 vs 0.8: max {mx:.0f} mean {mean:.2f} levels")


def main():
    args = parse_args()
    t0 = time.time()
    import_comfy(args.comfyui)
    import comfy.sd
    import comfy.utils

    shapes, meta_model = layout(args.variant)
    unet_config = dict(SD15_UNET if args.variant == "full" else TINY_UNET)
    detected = check_detection(shapes, unet_config)
    counts = {}
    for k, s in shapes.items():
        part = k.split(".", 1)[0]
        n = 1
        for d in s:
            n *= d
        counts[part] = counts.get(part, 0) + n
    print(f"{args.variant}: {len(shapes)} tensors, detected as {detected}; parameters: "
          + ", ".join(f"{k} {v / 1e6:.1f}M" for k, v in sorted(counts.items())))

    sd = {k: random_tensor(args.seed, k, s) for k, s in sorted(shapes.items())}
    print(f"random weights drawn ({time.time() - t0:.0f} s)")

    # Load it the way CheckpointLoaderSimple does, to calibrate on ComfyUI's own objects.
    model, clip, vae, _ = comfy.sd.load_state_dict_guess_config(dict(sd), output_vae=True,
                                                                output_clip=True)
    cross_scale, unet_scale = one_thread(calibrate_unet, model, clip, sd, args.seed)
    vae_std = one_thread(vae_output_std, vae, model.model.latent_format, args.seed)
    vae_scale = sig3(VAE_TARGET_STD / vae_std)
    print(f"VAE decoder output std {vae_std:.4g}: conv_out x {vae_scale}")
    del model, clip, vae
    for k in cross_attention_outputs(sd):
        sd[k] = scaled(sd[k], cross_scale)
    sd[UNET_OUT] = scaled(sd[UNET_OUT], unet_scale)
    sd[VAE_OUT] = scaled(sd[VAE_OUT], vae_scale)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    comfy.utils.save_torch_file(sd, args.out)
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes in {time.time() - t0:.0f} s")
    print(f"sha256 {sha256(args.out)}  {os.path.basename(args.out)}")

    if args.lora:
        lora = build_lora(args.seed, shapes, unet_config)
        n_unet, n_te = check_lora_keys(lora, meta_model)
        os.makedirs(os.path.dirname(os.path.abspath(args.lora)), exist_ok=True)
        comfy.utils.save_torch_file(lora, args.lora)
        print(f"wrote {args.lora}: {n_unet} UNet + {n_te} CLIP layers, rank {LORA_RANK},"
              f" {os.path.getsize(args.lora)} bytes")
        print(f"sha256 {sha256(args.lora)}  {os.path.basename(args.lora)}")

    if args.check:
        del sd
        sampling_check(args.out, args.lora)
    print(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
