"""
Synthetic anomalies for training an anomaly map from good parts only
(DRAEM-style): a random region of a good image is changed in one of a few
generic ways, and the net learns to mark the cells where the image changed.
None of the ways is a defect kind of the line: they are what any defect
does to pixels (new colour, foreign texture, displaced structure, changed
finish, structure mirrored, turned or at another scale), at random sizes,
shapes and strengths; where the change leaves the pixels as they were (a
symmetric part mirrored), nothing is marked.
"""
import math

import torch
import torch.nn.functional as F

# A cell of the map counts as anomalous when this many of its pixels changed
# by at least CHANGED; changes under FAINT everywhere make it a good cell, and
# cells in between are left out of the loss (sensor noise is about 6 grey
# levels: a change the camera cannot show is no lesson).
CHANGED, FAINT, MIN_PIXELS = 0.06, 0.025, 3


def _masks(n, h, w, gen, large):
    """
    Soft masks [n, 1, h, w] in 0..1 and their centres: ellipses of 2..24 px
    radius (up to 48 where `large`) or strokes 1..3 px wide, edges softened
    at random.
    """
    r = lambda *s: torch.rand(*s, generator=gen)
    ys = torch.arange(h).view(1, h, 1).float()
    xs = torch.arange(w).view(1, 1, w).float()
    cx, cy = (r(n) * w).view(n, 1, 1), (r(n) * h).view(n, 1, 1)
    # Ellipse: radii, rotation.
    ra = ((2 + r(n) ** 1.5 * 22) * torch.where(large, 2.0, 1.0)).view(n, 1, 1)
    rb = ra * (0.3 + 0.7 * r(n)).view(n, 1, 1)
    t = (r(n) * math.pi).view(n, 1, 1)
    dx, dy = xs - cx, ys - cy
    u = (dx * torch.cos(t) + dy * torch.sin(t)) / ra
    v = (-dx * torch.sin(t) + dy * torch.cos(t)) / rb
    ellipse = (u * u + v * v <= 1).float()
    # Stroke: a segment of 8..70 px, 1..3 px wide, possibly bent by a second segment.
    length = (8 + r(n) * 62).view(n, 1, 1)
    width = (0.5 + r(n) * 1.2).view(n, 1, 1)
    ex, ey = cx + torch.cos(t) * length, cy + torch.sin(t) * length
    sx, sy = ex - cx, ey - cy
    along = ((dx * sx + dy * sy) / (sx * sx + sy * sy)).clamp(0, 1)
    dist = torch.hypot(dx - along * sx, dy - along * sy)
    stroke = (dist <= width).float()
    use_stroke = ((r(n) < 0.3) & ~large).view(n, 1, 1)
    m = torch.where(use_stroke, stroke, ellipse).unsqueeze(1)
    soft = r(n) < 0.5
    if soft.any():
        m[soft] = F.avg_pool2d(m[soft], 5, 1, 2)
    return m, cx.view(n), cy.view(n)


def _warped(x, cx, cy, gen):
    """
    Each image moved about (cx, cy) by one of: a mirror (left-right or
    up-down), a turn of 60..180 degrees, a zoom of 0.6..0.8 or 1.3..1.7:
    structure where it does not belong, at the wrong scale or handedness.
    """
    n, _, h, w = x.shape
    r = lambda *s: torch.rand(*s, generator=gen)
    how = torch.randint(0, 4, (n,), generator=gen)
    a = torch.zeros(n, 2, 2)
    sign = torch.where(r(n) < 0.5, -1.0, 1.0)
    turn = sign * math.radians(60) + sign * r(n) * math.radians(120)
    zoom = torch.where(r(n) < 0.5, 0.6 + r(n) * 0.2, 1.3 + r(n) * 0.4)
    a[:, 0, 0], a[:, 1, 1] = 1.0, 1.0
    a[how == 0, 0, 0] = -1.0
    a[how == 1, 1, 1] = -1.0
    rot = how == 2
    a[rot, 0, 0], a[rot, 0, 1], a[rot, 1, 0], a[rot, 1, 1] = torch.cos(turn[rot]), -torch.sin(turn[rot]), torch.sin(turn[rot]), torch.cos(turn[rot])
    z = how == 3
    a[z, 0, 0], a[z, 1, 1] = 1 / zoom[z], 1 / zoom[z]
    # Output pixel p samples the input at c + a (p - c), in grid_sample's -1..1 coordinates.
    c = torch.stack([cx / w * 2 - 1, cy / h * 2 - 1], 1)
    theta = torch.cat([a, (c - (a @ c.unsqueeze(2)).squeeze(2)).unsqueeze(2)], 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


# The ways an anomaly is pasted: appearance (a flat colour, another image's
# texture, the image displaced, a tint, a shade) and geometry (the image
# mirrored, turned or zoomed about the region's centre).
KINDS = ("flat", "foreign", "displaced", "tint", "shade", "warped")


def paste_anomalies(x, gen, rate=0.5, kinds=KINDS):
    """
    Returns (images, per-pixel change [n, 1, h, w]) with an anomaly of one
    of `kinds` pasted into about `rate` of the good images `x` (float NCHW
    in 0..1).
    """
    n, c, h, w = x.shape
    r = lambda *s: torch.rand(*s, generator=gen)
    hit = r(n) < rate
    use = torch.tensor([KINDS.index(k) for k in kinds])
    kind = use[torch.randint(0, len(use), (n,), generator=gen)]
    m, cx, cy = _masks(n, h, w, gen, large=kind == KINDS.index("warped"))
    m = m * hit.view(n, 1, 1, 1)
    fill = torch.empty_like(x)
    # 0: a flat colour, any colour.
    flat = r(n, c, 1, 1).expand(n, c, h, w)
    # 1: another image's pixels from another place (foreign texture).
    other = torch.roll(x, 1, 0)
    shift = [int(v) for v in torch.randint(-40, 41, (2,), generator=gen)]
    foreign = torch.roll(other, shift, (2, 3))
    # 2: the same image displaced by 4..30 px (a hole or an edge where none belongs, one gone).
    dist = 4 + int(r(1) * 26)
    angle = float(r(1)) * 2 * math.pi
    displaced = torch.roll(x, (int(dist * math.sin(angle)), int(dist * math.cos(angle))), (2, 3))
    # 3: a finish change: per-channel gains 0.5..1.5 (tint); 4: darker or brighter.
    tint = x * (0.5 + r(n, c, 1, 1))
    shade = x + (r(n, 1, 1, 1) - 0.5) * 0.8
    warped = _warped(x, cx, cy, gen)
    for k, src in enumerate([flat, foreign, displaced, tint, shade, warped]):
        sel = kind == k
        fill[sel] = src[sel]
    alpha = (0.5 + 0.5 * r(n, 1, 1, 1)) * m
    out = (x * (1 - alpha) + fill.clamp(0, 1) * alpha).clamp(0, 1)
    change = (out - x).abs().amax(dim=1, keepdim=True)
    return out, change


def cell_targets(change, cell):
    """Per-cell (target, weight) from the per-pixel change, cells of `cell` x `cell` pixels (ceil at the edges)."""
    pad_h = (-change.shape[2]) % cell
    pad_w = (-change.shape[3]) % cell
    ch = F.pad(change, (0, pad_w, 0, pad_h))
    strong = F.avg_pool2d((ch >= CHANGED).float(), cell, cell) * cell * cell
    any_faint = F.max_pool2d(ch, cell, cell) >= FAINT
    target = (strong >= MIN_PIXELS).float()
    weight = torch.where((target > 0) | ~any_faint, 1.0, 0.0)
    return target, weight
