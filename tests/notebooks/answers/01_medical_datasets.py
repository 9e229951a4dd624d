"""Reference answers of notebooks/01_medical_datasets.ipynb (cell source per exercise id)."""

ANSWERS = {
    "volumes": (
        'medmnist_3d = registry[(registry["source"] == "medmnist") & (registry["dims"] == 3)]\n'
        'answer = int(medmnist_3d[["train", "val", "test"]].to_numpy().sum())'
    ),
    "folder_test": "answer = 2 * round(0.2 * N_PER_CLASS)",
    "non_commercial": (
        'answer = {info.name for info in data.list_datasets() if "NC" in info.licence}'
    ),
}
