"""Makes the video and animation fixtures from a real ComfyUI (model-free
workflows, CPU is enough): what SaveVideo (PyAV, H.264 in MP4), SaveWEBM
(VP9 and AV1), SaveAnimatedWEBP and SaveAnimatedPNG really write, plus GIFs
made with Pillow (ComfyUI's core nodes write none; one of them blank and
frozen) and a truncated MP4.

    python tests/comfyui/record_media.py http://127.0.0.1:8188

Writes mocks/media/<name>.<ext> and facts.json (what PyAV and Pillow
read from each file: the figures the harness must agree with). Needs the
ComfyUI venv (av, PIL). Nothing here runs in the test suite.
"""

import io
import json
import os
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "mocks", "media")


def node(cls, **inputs):
    return {"class_type": cls, "inputs": inputs}


def frames(w, h, batch, noise=True, color=0x3366CC):
    g = {"1": node("EmptyImage", width=w, height=h, batch_size=batch, color=color)}
    if noise:
        g["2"] = node("ImageAddNoise", image=["1", 0], seed=7, strength=0.6)
    return g, ["2" if noise else "1", 0]


def cases():
    out = {}
    g, src = frames(64, 48, 12)
    g["3"] = node("CreateVideo", images=src, fps=8.0)
    g["4"] = node("SaveVideo", video=["3", 0], filename_prefix="media/h264", format="mp4", codec="h264")
    out["h264.mp4"] = g
    g, src = frames(64, 48, 10, noise=False)
    g["3"] = node("CreateVideo", images=src, fps=10.0)
    g["4"] = node("SaveVideo", video=["3", 0], filename_prefix="media/frozen", format="mp4", codec="h264")
    out["frozen.mp4"] = g
    for codec in ("vp9", "av1"):
        g, src = frames(48, 32, 6)
        g["3"] = node("SaveWEBM", images=src, filename_prefix=f"media/{codec}", codec=codec, fps=6.0, crf=32.0)
        out[f"{codec}.webm"] = g
    g, src = frames(48, 32, 6)
    g["3"] = node("SaveAnimatedWEBP", images=src, filename_prefix="media/anim", fps=6.0, lossless=True,
                  quality=80, method="default")
    out["anim.webp"] = g
    g, src = frames(40, 24, 5)
    g["3"] = node("SaveAnimatedPNG", images=src, filename_prefix="media/anim", fps=5.0, compress_level=4)
    out["anim.png"] = g
    return out


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def run(comfy, graph):
    pid = post(f"{comfy}/prompt", {"prompt": graph})["prompt_id"]
    for _ in range(600):
        h = json.loads(get(f"{comfy}/history/{pid}"))
        if pid in h:
            break
        time.sleep(0.1)
    entry = h[pid]
    assert entry["status"]["status_str"] == "success", entry["status"]
    for out in entry["outputs"].values():
        for f in out.get("images", []):
            if f.get("type") == "output":
                q = urllib.parse.urlencode({"filename": f["filename"], "subfolder": f["subfolder"], "type": "output"})
                return get(f"{comfy}/view?{q}")
    raise RuntimeError("no output file")


def facts(path):
    import av
    from PIL import Image
    name = os.path.basename(path)
    if name.endswith((".mp4", ".webm")):
        with av.open(path) as c:
            s = c.streams.video[0]
            n = sum(1 for _ in c.decode(video=0))
            return {"container": name.rsplit(".", 1)[1], "codec": s.codec_context.name, "width": s.width,
                    "height": s.height, "frames": n, "fps": float(s.average_rate)}
    im = Image.open(path)
    durations = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        durations.append(im.info.get("duration", 0))
    return {"container": name.rsplit(".", 1)[1], "width": im.width, "height": im.height,
            "frames": len(durations), "durations_ms": durations}


def gif(path):
    from PIL import Image
    import random
    random.seed(3)
    imgs = []
    for k in range(8):
        im = Image.new("RGB", (48, 32), (40 + 20 * k, 90, 160))
        px = im.load()
        for _ in range(200):
            px[random.randrange(48), random.randrange(32)] = (255, 255, 255)
        imgs.append(im)
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=125, loop=0)


def frozen_gif(path):
    """Six flat frames, each differing from the last in one pixel only (so
    Pillow keeps them as frames): a clip that is blank and does not move."""
    from PIL import Image
    imgs = []
    for k in range(6):
        im = Image.new("RGB", (48, 32), (30, 60, 90))
        im.putpixel((k, 0), (31, 60, 90))
        imgs.append(im)
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=100, loop=0)


def main():
    comfy = sys.argv[1].rstrip("/")
    os.makedirs(OUT, exist_ok=True)
    for name, graph in cases().items():
        data = run(comfy, graph)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(name, len(data), "bytes")
    gif(os.path.join(OUT, "anim.gif"))
    frozen_gif(os.path.join(OUT, "frozen.gif"))
    with open(os.path.join(OUT, "h264.mp4"), "rb") as f:
        whole = f.read()
    with open(os.path.join(OUT, "truncated.mp4"), "wb") as f:
        f.write(whole[: len(whole) * 6 // 10])
    out = {n: facts(os.path.join(OUT, n)) for n in sorted(os.listdir(OUT))
           if n not in ("facts.json", "truncated.mp4")}
    with open(os.path.join(OUT, "facts.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
