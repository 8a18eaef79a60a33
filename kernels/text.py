"""Text columns read in place: which of a few distinct values each row of a string column holds.

A convention column given as text (`method = "equal_installment"` on every row, as `pl.lit`
or a decoded Parquet dictionary makes it) has a handful of distinct spellings. Hashing a
million strings to find them (`unique`, then `replace_strict`) cost 15–22 ms a column;
`distinct_views` walks the column's Arrow string views once instead, as two words a row.
"""

import numpy as np

from ._config import jit


@jit
def distinct_views(views, bits, offset, out, reps):
    """Number each of `out.shape[0]` rows of an Arrow string-view array by its distinct *view*,
    in order of first appearance: `out[i]` for row i (view `offset + i` of `views`, the array's
    16-byte views as uint64 pairs), -1 where null (validity bit `offset + i` of `bits`; empty:
    no nulls). `reps[d]` is set to the first row holding view d. Returns the number of distinct
    views, or -1 once there are more than `reps` holds (the caller then hashes the column).

    Equal views hold equal text: the same length and inline bytes (≤ 12 bytes), or the same
    length, prefix, buffer and offset. Equal text in two views (long values each with bytes of
    their own) just numbers twice; the caller reads each numbered view's text, so the rows
    still get one value each.

    >>> import numpy as np, pyarrow as pa
    >>> a = pa.array(["bullet", None, "bullet", "equal_installment"], pa.string_view())
    >>> bits, views = np.frombuffer(a.buffers()[0], np.uint8), np.frombuffer(a.buffers()[1], np.uint64)
    >>> out, reps = np.empty(4, np.int16), np.empty(8, np.int64)
    >>> distinct_views(views, bits, 0, out, reps), out.tolist(), reps[:2].tolist()
    (2, [0, -1, 0, 1], [0, 3])
    """
    low = np.empty(reps.shape[0], dtype=np.uint64)
    high = np.empty(reps.shape[0], dtype=np.uint64)
    count = 0
    last = -1
    for i in range(out.shape[0]):
        j = offset + i
        if bits.shape[0] and not (bits[j >> 3] >> (j & 7)) & 1:
            out[i] = -1
            continue
        a, b = views[2 * j], views[2 * j + 1]
        if last >= 0 and a == low[last] and b == high[last]:  # most often: the row before's
            out[i] = last
            continue
        found = -1
        for d in range(count):
            if a == low[d] and b == high[d]:
                found = d
                break
        if found < 0:
            if count == reps.shape[0]:
                return -1
            low[count], high[count], reps[count] = a, b, i
            found = count
            count += 1
        out[i] = found
        last = found
    return count
