#!/usr/bin/env python3
"""
Exports a Hugging Face Marian checkpoint (config.json + model.safetensors) to three ONNX graphs, for the
benchmark's onnxruntime peer (npm run bench:setup). transformers is not needed: the forward pass is written out
below as a small torch module that follows MarianMTModel (post-LayerNorm, sinusoidal positions, tied output
projection + final_logits_bias).

  encoder.onnx        input_ids [1,S]                     -> encoder_hidden [1,S,d],
                                                             cross_k_<l>, cross_v_<l> [1,H,S,hd] per decoder layer
                                                             (the encoder–decoder keys/values, computed once)
  decoder_step.onnx   input_ids [1,1], position [1],
                      past_k_<l>, past_v_<l> [1,H,P,hd],
                      cross_k_<l>, cross_v_<l>            -> logits [1,V], present_k_<l>, present_v_<l> [1,H,P+1,hd]
                                                             (greedy decoding WITH a key/value cache)
  decoder_full.onnx   input_ids [1,T], cross_k_<l>, cross_v_<l>
                                                          -> logits [1,V] of the last position
                                                             (WITHOUT a self-attention cache: the whole prefix
                                                             is run again every step)

One sentence at a time (batch 1, no padding), float32.

  /usr/bin/python3 scripts/onnx/export_marian.py MODEL_DIR OUT_DIR

Needs Debian's python3-torch and python3-onnx (apt-get install -y python3-torch python3-onnx).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

OPSET = 14


def read_safetensors(path):
    """name -> float32 torch tensor, parsed with json + struct (F32/F16/BF16 only)."""
    with open(path, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + n].decode('utf8'))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        raw = blob[base + start:base + end]
        dtype = info['dtype']
        if dtype == 'F32':
            arr = np.frombuffer(raw, dtype='<f4')
        elif dtype == 'F16':
            arr = np.frombuffer(raw, dtype='<f2').astype(np.float32)
        elif dtype == 'BF16':
            arr = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f'{name}: unsupported dtype {dtype}')
        out[name] = torch.from_numpy(arr.reshape(info['shape']).copy())
    return out


def sinusoids(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding: sin of pos/10000^(2j/d) in the first half, cos in the second."""
    half = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    table = np.zeros((n_pos, dim), dtype=np.float64)
    for j in range(half):
        angle = np.arange(n_pos, dtype=np.float64) / np.power(10000.0, 2 * j / dim)
        table[:, j] = np.sin(angle)
        if half + j < dim:
            table[:, half + j] = np.cos(angle)
    return torch.from_numpy(table.astype(np.float32))


def activation(name):
    return {'relu': torch.relu, 'swish': nn.functional.silu, 'silu': nn.functional.silu,
            'gelu': nn.functional.gelu}[name]


class Weights:
    def __init__(self, tensors):
        self.t = tensors

    def get(self, *names):
        for n in names:
            for cand in (n, 'model.' + n):
                if cand in self.t:
                    return self.t[cand]
        raise KeyError(names[0])

    def linear(self, prefix):
        return self.get(prefix + '.weight'), self.get(prefix + '.bias')


def lin(x, wb):
    return torch.matmul(x, wb[0].t()) + wb[1]


def layer_norm(x, wb, eps):
    return nn.functional.layer_norm(x, (int(wb[0].shape[0]),), wb[0], wb[1], eps)


class Marian(nn.Module):
    def __init__(self, cfg, tensors):
        super().__init__()
        w = Weights(tensors)
        self.d = cfg['d_model']
        self.heads = cfg['decoder_attention_heads']
        self.enc_heads = cfg['encoder_attention_heads']
        self.eps = 1e-5
        self.act = activation(cfg.get('activation_function', 'relu'))
        self.scale = math.sqrt(self.d) if cfg.get('scale_embedding', False) else 1.0
        self.embed = w.get('shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight')
        self.lm_head = self.embed if cfg.get('tie_word_embeddings', True) else w.get('lm_head.weight')
        try:
            self.final_bias = w.get('final_logits_bias').reshape(-1)
        except KeyError:
            self.final_bias = torch.zeros(self.embed.shape[0])
        self.positions = sinusoids(cfg['max_position_embeddings'], self.d)

        def attn(p):
            return {k: w.linear(f'{p}.{k}_proj') for k in ('q', 'k', 'v', 'out')}

        def norm(p):
            return (w.get(p + '.weight'), w.get(p + '.bias'))

        self.enc = []
        for i in range(cfg['encoder_layers']):
            p = f'encoder.layers.{i}'
            self.enc.append(dict(self_attn=attn(p + '.self_attn'), self_norm=norm(p + '.self_attn_layer_norm'),
                                 fc1=w.linear(p + '.fc1'), fc2=w.linear(p + '.fc2'), final_norm=norm(p + '.final_layer_norm')))
        self.dec = []
        for i in range(cfg['decoder_layers']):
            p = f'decoder.layers.{i}'
            self.dec.append(dict(self_attn=attn(p + '.self_attn'), self_norm=norm(p + '.self_attn_layer_norm'),
                                 cross_attn=attn(p + '.encoder_attn'), cross_norm=norm(p + '.encoder_attn_layer_norm'),
                                 fc1=w.linear(p + '.fc1'), fc2=w.linear(p + '.fc2'), final_norm=norm(p + '.final_layer_norm')))

    # [1, L, d] -> [1, H, L, hd]
    def split(self, x, heads):
        return x.reshape(1, -1, heads, self.d // heads).transpose(1, 2)

    def merge(self, x):
        return x.transpose(1, 2).reshape(1, -1, self.d)

    def attend(self, q, k, v, heads, mask=None):
        hd = self.d // heads
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        if mask is not None:
            s = s + mask
        return self.merge(torch.matmul(torch.softmax(s, dim=-1), v))

    def ffn(self, x, L):
        return lin(self.act(lin(x, L['fc1'])), L['fc2'])

    def encode(self, input_ids):
        n = input_ids.shape[1]
        x = self.embed[input_ids] * self.scale + self.positions[:n].unsqueeze(0)
        for L in self.enc:
            a = L['self_attn']
            q = self.split(lin(x, a['q']), self.enc_heads)
            k = self.split(lin(x, a['k']), self.enc_heads)
            v = self.split(lin(x, a['v']), self.enc_heads)
            x = layer_norm(x + lin(self.attend(q, k, v, self.enc_heads), a['out']), L['self_norm'], self.eps)
            x = layer_norm(x + self.ffn(x, L), L['final_norm'], self.eps)
        cross = []
        for L in self.dec:
            a = L['cross_attn']
            cross.append(self.split(lin(x, a['k']), self.heads))
            cross.append(self.split(lin(x, a['v']), self.heads))
        return x, cross

    def decoder_layers(self, x, self_kv, cross, mask):
        """self_kv: per layer (k, v) of all positions so far (the new rows included)."""
        for i, L in enumerate(self.dec):
            a = L['self_attn']
            q = self.split(lin(x, a['q']), self.heads)
            k, v = self_kv(i, x)
            x = layer_norm(x + lin(self.attend(q, k, v, self.heads, mask), a['out']), L['self_norm'], self.eps)
            c = L['cross_attn']
            q = self.split(lin(x, c['q']), self.heads)
            x = layer_norm(x + lin(self.attend(q, cross[2 * i], cross[2 * i + 1], self.heads), c['out']), L['cross_norm'], self.eps)
            x = layer_norm(x + self.ffn(x, L), L['final_norm'], self.eps)
        return x

    def logits(self, x_last):
        return torch.matmul(x_last, self.lm_head.t()) + self.final_bias


class Encoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        hidden, cross = self.m.encode(input_ids)
        return (hidden, *cross)


class DecoderStep(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, position, *tensors):
        m = self.m
        n = len(m.dec)
        past, cross = tensors[:2 * n], tensors[2 * n:]
        x = m.embed[input_ids] * m.scale + m.positions[position].unsqueeze(0)
        present = []

        def self_kv(i, h):
            a = m.dec[i]['self_attn']
            k = torch.cat([past[2 * i], m.split(lin(h, a['k']), m.heads)], dim=2)
            v = torch.cat([past[2 * i + 1], m.split(lin(h, a['v']), m.heads)], dim=2)
            present.extend([k, v])
            return k, v

        x = m.decoder_layers(x, self_kv, cross, None)
        return (m.logits(x[:, -1, :]), *present)


class DecoderFull(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, *cross):
        m = self.m
        t = input_ids.shape[1]
        x = m.embed[input_ids] * m.scale + m.positions[:t].unsqueeze(0)
        causal = torch.triu(torch.full((t, t), float('-inf')), diagonal=1)

        def self_kv(i, h):
            a = m.dec[i]['self_attn']
            return m.split(lin(h, a['k']), m.heads), m.split(lin(h, a['v']), m.heads)

        x = m.decoder_layers(x, self_kv, cross, causal)
        return m.logits(x[:, -1, :])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    torch.set_grad_enabled(False)
    m = Marian(cfg, read_safetensors(os.path.join(model_dir, 'model.safetensors')))
    n, H, hd = len(m.dec), m.heads, m.d // m.heads
    cross_names = [f'cross_{kv}_{l}' for l in range(n) for kv in ('k', 'v')]
    past_names = [f'past_{kv}_{l}' for l in range(n) for kv in ('k', 'v')]
    present_names = [f'present_{kv}_{l}' for l in range(n) for kv in ('k', 'v')]
    ids = torch.tensor([[5, 17, 42, 0]], dtype=torch.long)
    S = ids.shape[1]

    def export(module, args, path, inputs, outputs, axes):
        torch.onnx.export(module, args, os.path.join(out_dir, path), input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)

    hidden, *cross = Encoder(m)(ids)
    export(Encoder(m), (ids,), 'encoder.onnx', ['input_ids'], ['encoder_hidden', *cross_names],
           {'input_ids': {1: 'src'}, 'encoder_hidden': {1: 'src'}, **{c: {2: 'src'} for c in cross_names}})

    past = [torch.zeros(1, H, 2, hd) for _ in range(2 * n)]
    step_args = (torch.tensor([[7]], dtype=torch.long), torch.tensor([2], dtype=torch.long), *past, *cross)
    export(DecoderStep(m), step_args, 'decoder_step.onnx', ['input_ids', 'position', *past_names, *cross_names],
           ['logits', *present_names],
           {**{p: {2: 'past'} for p in past_names}, **{p: {2: 'total'} for p in present_names}, **{c: {2: 'src'} for c in cross_names}})

    full_args = (torch.tensor([[7, 9, 11]], dtype=torch.long), *cross)
    export(DecoderFull(m), full_args, 'decoder_full.onnx', ['input_ids', *cross_names], ['logits'],
           {'input_ids': {1: 'tgt'}, **{c: {2: 'src'} for c in cross_names}})

    # the three graphs must agree with each other on a short greedy run before they are used
    start = cfg['decoder_start_token_id']
    seq = [start]
    kv = [torch.zeros(1, H, 0, hd) for _ in range(2 * n)]
    for t in range(4):
        out = DecoderStep(m)(torch.tensor([[seq[-1]]]), torch.tensor([t]), *kv, *cross)
        kv = list(out[1:])
        full = DecoderFull(m)(torch.tensor([seq]), *cross)
        assert torch.allclose(out[0], full, atol=1e-4), 'cached and uncached decoder disagree'
        seq.append(int(out[0].argmax()))
    meta = {'d_model': m.d, 'decoder_layers': n, 'heads': H, 'head_dim': hd, 'vocab_size': int(m.embed.shape[0]),
            'decoder_start_token_id': start, 'eos_token_id': cfg['eos_token_id'], 'pad_token_id': cfg['pad_token_id'],
            'max_positions': cfg['max_position_embeddings'], 'opset': OPSET, 'torch': torch.__version__}
    with open(os.path.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    sizes = {p: os.path.getsize(os.path.join(out_dir, p)) for p in ('encoder.onnx', 'decoder_step.onnx', 'decoder_full.onnx')}
    print(json.dumps({'out': out_dir, 'bytes': sizes}))


if __name__ == '__main__':
    main()
