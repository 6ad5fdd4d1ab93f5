"""A tiny worker for the local-target test, served by the real runpod package:

    python tests/local_worker/handler.py --rp_serve_api --rp_api_port 8000

It answers like worker-comfyui without ComfyUI: one PNG per SaveImage node at
the EmptyLatentImage size (pure Python, no Pillow). The workflow selects the
shape: a SaveImage with filename_prefix "legacy" answers the pre-5.0
`{message, status}`; a node of class "FailNode" makes the job fail.
"""

import base64
import struct
import zlib

import runpod


def png(width, height, seed):
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            row += bytes(((x * 7 + seed) % 256, (y * 5 + seed * 3) % 256, ((x + y) * 3) % 256))
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


def handler(job):
    workflow = job["input"].get("workflow")
    if not isinstance(workflow, dict):
        return {"error": "Missing 'workflow' parameter"}
    classes = {node.get("class_type") for node in workflow.values()}
    if "FailNode" in classes:
        return {"error": "Cannot execute because node FailNode does not exist."}
    width, height, seed = 64, 64, 0
    for node in workflow.values():
        inputs = node.get("inputs", {})
        if node.get("class_type") == "EmptyLatentImage":
            width, height = int(inputs.get("width", 64)), int(inputs.get("height", 64))
        if "seed" in inputs:
            seed = int(inputs["seed"])
    savers = [n for n in workflow.values() if n.get("class_type") == "SaveImage"]
    images = []
    for i, node in enumerate(savers):
        prefix = node.get("inputs", {}).get("filename_prefix", "ComfyUI")
        data = base64.b64encode(png(width, height, seed + i)).decode()
        if prefix == "legacy":
            return {"message": data, "status": "success"}
        images.append({"filename": f"{prefix}_{i + 1:05}_.png", "type": "base64", "data": data})
    if not images:
        return {"status": "success_no_images", "images": []}
    return {"images": images}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
