"""Overlapping windows over a sequence of word pieces, for inputs longer than the model takes."""


def window_bounds(content_length, window, stride: int) -> list:
    """[start, end) of each window over the content pieces; consecutive windows overlap by `stride` pieces."""
    if content_length <= window:
        return [(0, content_length)]
    step = window - stride
    bounds, start = [], 0
    while True:
        end = min(start + window, content_length)
        bounds.append((start, end))
        if end == content_length:
            return bounds
        start += step
