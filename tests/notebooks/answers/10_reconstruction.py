"""Reference answers of notebooks/10_reconstruction.ipynb (cell source per exercise id)."""

ANSWERS = {
    "acceleration": "answer = SIZE / float(mask.sum())",
    "unmeasured": ("answer = float(fft2c(zero_filled)[(mask == 0).expand_as(kspace)].abs().max())"),
    "space_size": "k = 7\nanswer = (1 * k**2) * (3 * k**2)",
    "first_op": "answer = [op for op, j in result.genotype.normal if j == 0][0]",
    "gain_db": (
        'answer = float(table.loc["searched", "test_psnr"] - table.loc["zero-filled", "test_psnr"])'
    ),
}
