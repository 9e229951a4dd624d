"""Detection scores (FROC by hand, COCO mAP/AP50 by pycocotools), the loss and decoding."""

import pytest
import torch

from nasbench.data.lesions import SyntheticLesions
from nasbench.errors import NasbenchError
from nasbench.evaluation.detection import (
    DetectionMeter,
    DetectionTask,
    coco_map,
    froc,
    froc_curve,
    truths_of,
)
from nasbench.evaluation.tasks import task_for
from nasbench.models.detector import (
    DetectionHead,
    FcosLoss,
    ResNetDetector,
    assign_targets,
    decode_detections,
)


def _det(boxes, scores):
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).view(-1, 4),
        "scores": torch.tensor(scores, dtype=torch.float32),
        "labels": torch.zeros(len(scores), dtype=torch.long),
    }


def _truth(boxes):
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).view(-1, 4),
        "labels": torch.zeros(len(boxes), dtype=torch.long),
    }


def _hand_case():
    # Image A: lesions G1, G2; image B: lesion G3. Scores in order 0.9 TP(G1), 0.8 FP,
    # 0.7 FP (B), 0.4 TP(G2), 0.3 TP(G3, B), 0.2 FP (a second box on G1, already found).
    g1, g2, g3 = [0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]
    dets = [
        _det([g1, [50, 50, 60, 60], g2, g1], [0.9, 0.8, 0.4, 0.2]),
        _det([[40, 40, 50, 50], g3], [0.7, 0.3]),
    ]
    return dets, [_truth([g1, g2]), _truth([g3])]


def test_froc_curve_and_sensitivities_match_the_hand_computed_case():
    dets, truths = _hand_case()
    fps, sens = froc_curve(dets, truths)
    assert fps.tolist() == [0.0, 0.5, 1.0, 1.0, 1.0, 1.5]
    assert sens.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 2 / 3, 1.0, 1.0])
    scores = froc(dets, truths)
    assert scores["froc_0.5"] == pytest.approx(1 / 3)
    assert scores["froc_1"] == scores["froc_2"] == scores["froc_4"] == pytest.approx(1.0)
    assert scores["froc"] == pytest.approx((1 / 3 + 3) / 4)


def test_froc_of_tied_scores_does_not_depend_on_the_order_of_the_images():
    hit = (_det([[0, 0, 10, 10]], [0.7]), _truth([[0, 0, 10, 10]]))
    miss = (_det([[20, 20, 30, 30]], [0.7]), _truth([[0, 0, 10, 10]]))
    rates = (0.25, 1.0)
    for order in ((miss, hit), (hit, miss)):
        dets, truths = [d for d, _ in order], [t for _, t in order]
        fps, sens = froc_curve(dets, truths)
        assert fps.tolist() == [0.5] and sens.tolist() == [0.5]  # one threshold, both taken
        scores = froc(dets, truths, rates=rates)
        assert scores["froc_0.25"] == 0.0 and scores["froc_1"] == 0.5


def test_froc_needs_the_iou_threshold_and_one_list_per_image():
    dets = [_det([[0, 0, 10, 5]], [0.9])]  # IoU 0.5 with the lesion
    assert froc(dets, [_truth([[0, 0, 10, 10]])], iou_threshold=0.6)["froc_4"] == 0.0
    assert froc(dets, [_truth([[0, 0, 10, 10]])], iou_threshold=0.5)["froc_4"] == 1.0
    with pytest.raises(Exception, match="2 images"):
        froc(dets, [_truth([]), _truth([])])


@pytest.mark.parametrize(
    ("dets", "truths", "message"),
    [
        ([_det([[0, 0, 10, 10]], [0.9])], [_truth([[12, 12, 2, 2]])],
         r"truths\[0\] has box \[12.0, 12.0, 2.0, 2.0\] with x2 < x1 or y2 < y1; boxes are"),
        ([_det([[0, 0, float("nan"), 10]], [0.9])], [_truth([[0, 0, 10, 10]])],
         r"detections\[0\] has NaN or infinite boxes"),
    ],
)  # fmt: skip
def test_boxes_that_would_score_zero_without_a_word_are_refused(dets, truths, message):
    for score in (froc, lambda d, t: coco_map(d, t, (32, 32))):
        with pytest.raises(NasbenchError, match=message) as err:
            score(dets, truths)
        assert "\n" not in str(err.value)


def test_plain_lists_score_as_tensors_and_bad_rates_or_sizes_are_one_line():
    as_lists = [{"boxes": [[0, 0, 10, 10]], "scores": [0.9], "labels": [0]}]
    truths = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    assert froc(as_lists, truths)["froc"] == 1.0
    assert coco_map(as_lists, truths, (32, 32)) == pytest.approx({"map": 1.0, "ap50": 1.0})
    with pytest.raises(NasbenchError, match="rates must be one or more"):
        froc(as_lists, truths, rates=[])
    with pytest.raises(NasbenchError, match=r"image_size must be \(height, width\)"):
        coco_map(as_lists, truths, 32)


def test_a_diverging_box_regression_scores_a_training_batch_instead_of_stopping_it():
    # exp() of a large regression output is inf; the per-batch score clips to the image.
    out = DetectionHead(4, 1, 4)(torch.zeros(1, 4, 8, 8), stride=2).detach()
    out[..., :1], out[..., 1:5] = 10.0, 100.0
    target = torch.full((1, 4, 5), -1.0)
    target[0, 0] = torch.tensor([1.0, 1.0, 5.0, 5.0, 0.0])
    assert DetectionTask().batch_metrics(out, target) == {"froc": 0.0}


def test_a_target_that_is_no_padded_batch_is_one_line():
    with pytest.raises(NasbenchError, match=r"batch \(N, boxes, 5\) .* got shape \(4, 5\)"):
        truths_of(torch.zeros(4, 5))


def test_coco_map_is_one_for_perfect_boxes_and_ap50_only_for_loose_ones():
    truths = [_truth([[0, 0, 10, 10]]), _truth([[5, 5, 25, 15]])]
    perfect = [_det([[0, 0, 10, 10]], [0.9]), _det([[5, 5, 25, 15]], [0.8])]
    assert coco_map(perfect, truths, (32, 32)) == pytest.approx({"map": 1.0, "ap50": 1.0})
    # IoU 0.62 each: a hit at thresholds .50, .55, .60 of the ten -> mAP 0.3.
    loose = [_det([[0, 0, 10, 6.2]], [0.9]), _det([[5, 5, 17.4, 15]], [0.8])]
    scores = coco_map(loose, truths, (32, 32))
    assert scores["ap50"] == pytest.approx(1.0) and scores["map"] == pytest.approx(0.3, abs=0.01)
    assert coco_map([_det([], []), _det([], [])], truths, (32, 32)) == {"map": 0.0, "ap50": 0.0}


def test_coco_map_scores_every_detection_of_an_image_past_cocos_100():
    # 200 disjoint lesions, all found: COCOeval's default cap (100 per image) scored 0.5.
    boxes = [[10.0 * (i % 20), 10.0 * (i // 20), 10.0 * (i % 20) + 6, 10.0 * (i // 20) + 6]
             for i in range(200)]  # fmt: skip
    found = _det(boxes, torch.linspace(1.0, 0.5, 200).tolist())
    assert coco_map([found], [_truth(boxes)], (256, 256)) == pytest.approx(
        {"map": 1.0, "ap50": 1.0}
    )
    # Half of them found: half the recall, at every IoU threshold.
    half = coco_map([_det(boxes[:100], [0.9] * 100)], [_truth(boxes)], (256, 256))
    assert half["ap50"] == pytest.approx(0.5, abs=0.01)


def test_a_truth_box_of_no_area_is_refused_in_one_line():
    for flat in ([5, 5, 5, 10], [5, 5, 9, 5], [5, 5, 5, 5]):
        with pytest.raises(NasbenchError, match=r"truths\[0\] has box .* zero width or height"):
            coco_map([_det([flat], [0.9])], [_truth([flat])], (32, 32))
    # A detection of no area is only a miss.
    assert coco_map([_det([[5, 5, 5, 9]], [0.9])], [_truth([[4, 4, 9, 9]])], (32, 32)) == {
        "map": 0.0,
        "ap50": 0.0,
    }


def test_a_split_keeps_a_detection_for_each_lesion_past_the_decoders_twenty():
    # 30 small lesions on a 32x32 image, each encoded at its own location of a stride-2
    # grid: the meter keeps all 30 (the decoder's default would keep 20), so all are found.
    out = DetectionHead(4, 1, 4)(torch.zeros(1, 4, 16, 16), stride=2).detach().clone()
    out[0, :, 0] = -20.0  # no lesion anywhere else
    target = torch.full((1, 30, 5), -1.0)
    for k, (gx, gy) in enumerate(
        [(gx, gy) for gy in range(0, 16, 2) for gx in range(0, 16, 2)][:30]
    ):
        row = gy * 16 + gx
        cx, cy = out[0, row, -3:-1].tolist()
        out[0, row, 0], out[0, row, 5] = 10.0, 10.0
        out[0, row, 1:5] = torch.log(torch.tensor([1.0, 1.0, 1.0, 1.0]) / 2)
        target[0, k] = torch.tensor([cx - 1, cy - 1, cx + 1, cy + 1, 0.0])
    meter = DetectionMeter()
    meter.update(out, target)
    assert len(meter.detections[0]["boxes"]) == 30
    assert meter.result()["ap50"] == pytest.approx(1.0)
    assert len(decode_detections(out)[0]["boxes"]) == 20  # the decoder's own default


def test_assignment_takes_the_smaller_box_and_leaves_far_locations_background():
    points = torch.tensor([[5.0, 5.0], [3.0, 3.0], [30.0, 30.0]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 8.0, 8.0]])
    assert assign_targets(points, torch.full((3,), 4.0), boxes).tolist() == [1, 1, -1]


def test_a_lesion_between_location_centres_takes_its_nearest_location():
    # Stride-2 centres at 1, 3, 5, 7: a 1-pixel box at (3.6..4.6) holds none of them.
    grid = torch.tensor([[x, y] for y in (1.0, 3.0, 5.0, 7.0) for x in (1.0, 3.0, 5.0, 7.0)])
    strides = torch.full((16,), 2.0)
    tiny = torch.tensor([[3.6, 3.6, 4.6, 4.6]])  # centre (4.1, 4.1): nearest (5, 5), 10
    assert assign_targets(grid, strides, tiny).tolist() == [-1] * 10 + [0] + [-1] * 5
    # Inside a larger box, the tiny one still takes its nearest location (the smaller wins).
    both = torch.tensor([[0.0, 0.0, 8.0, 8.0], [3.6, 3.6, 4.6, 4.6]])
    match = assign_targets(grid, strides, both)
    assert match[10] == 1 and (match[torch.arange(16) != 10] == 0).all()
    # A box's only location is never taken: the tiny one moves to its next nearest.
    a, b = [2.2, 2.2, 3.6, 3.6], [3.6, 3.6, 4.0, 4.0]  # A holds (3, 3) alone; B is nearest it
    match = assign_targets(grid, strides, torch.tensor([a, b]))
    assert (match == 0).nonzero().flatten().tolist() == [5]
    assert (match == 1).nonzero().flatten().tolist() == [6]  # (5, 3), B's next nearest
    # Its loss is finite and trains the class at that location.
    out = DetectionHead(4, 1, 4)(torch.zeros(1, 4, 4, 4), stride=2)
    target = torch.tensor([[[3.6, 3.6, 4.6, 4.6, 0.0]]])
    logits = out[..., :1].detach().clone().requires_grad_(True)
    loss = FcosLoss()(torch.cat([logits, out[..., 1:]], dim=-1), target)
    loss.backward()
    assert torch.isfinite(loss) and logits.grad[0, 10, 0] < 0  # pushed up: a positive


def test_head_locations_and_decoding_recover_an_encoded_box():
    out = DetectionHead(4, 1, 4)(torch.zeros(1, 4, 8, 8), stride=2)
    assert out.shape == (1, 64, 9)
    assert out[0, 0, -3:].tolist() == [1.0, 1.0, 2.0] and out[0, -1, -3:].tolist() == [15, 15, 2]
    # Encode box (3, 4, 9, 12) at location (7, 7): distances 4, 3, 2, 5 strides' log.
    out = out.detach().clone()
    row = 3 * 8 + 3
    out[0, row, 0], out[0, row, 5] = 10.0, 10.0
    out[0, row, 1:5] = torch.log(torch.tensor([4.0, 3.0, 2.0, 5.0]) / 2)
    found = decode_detections(out, score_threshold=0.5)[0]
    assert found["boxes"].tolist() == [pytest.approx([3.0, 4.0, 9.0, 12.0])]


@pytest.mark.slow
def test_the_loss_falls_when_a_detector_fits_a_few_slices():
    torch.manual_seed(0)
    ds = SyntheticLesions("train", size=32, length=4)
    x = torch.stack([ds[i][0] for i in range(4)]) * 2 - 1
    y = torch.stack([ds[i][1] for i in range(4)])
    net, loss_fn = ResNetDetector(1, 1, channels=8, head_width=16), FcosLoss()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


def test_task_and_meter_report_the_split_scores():
    task = task_for("detection")
    assert isinstance(task, DetectionTask) and task.select == "ap50"
    ds = SyntheticLesions("val", size=32, length=2)
    x = torch.stack([ds[i][0] for i in range(2)])
    y = torch.stack([ds[i][1] for i in range(2)])
    out = ResNetDetector(1, 1, channels=8, head_width=8).eval()(x)
    meter = DetectionMeter(task.loss())
    meter.update(out, y)
    assert meter.image_size == (32, 32) and len(meter.truths) == 2
    scores = meter.result()
    assert set(scores) >= {"map", "ap50", "froc", "froc_0.5", "froc_4", "loss"}
    assert all(0.0 <= scores[k] <= 1.0 for k in ("map", "ap50", "froc"))


def test_meter_reads_a_non_square_images_height_and_width():
    net = ResNetDetector(1, 1, channels=8, head_width=8).eval()
    out = net(torch.zeros(1, 1, 24, 40))
    meter = DetectionMeter()
    meter.update(out, torch.full((1, 1, 5), -1.0))
    assert meter.image_size == (24, 40)
    boxes = torch.cat([d["boxes"] for d in meter.detections])
    assert float(boxes[:, 2].max()) <= 40 and float(boxes[:, 3].max()) <= 24


def _train_detector(augment: bool, monkeypatch=None, calls=None):
    from nasbench.evaluation import train_loop
    from nasbench.evaluation.train_loop import TrainConfig, train_model

    if monkeypatch is not None:
        real = train_loop.augment_detection_batch

        def spy(images, targets, generator, config=None):
            calls.append(tuple(images.shape))
            return real(images, targets, generator, config)

        monkeypatch.setattr(train_loop, "augment_detection_batch", spy)
    ds = SyntheticLesions("train", size=32, length=8)
    val = SyntheticLesions("val", size=32, length=4)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = ResNetDetector(1, 1, channels=4, head_width=8)
    config = TrainConfig(
        epochs=1, batch_size=4, lr=1e-3, optimizer="adam", augment=augment, device="cpu", seed=3
    )
    train_model(net, ds, val, val, "detection", config)
    return torch.cat([p.detach().flatten() for p in net.parameters()])


@pytest.mark.slow
def test_retraining_augments_detection_batches_only_in_training(monkeypatch):
    calls = []
    weights = _train_detector(True, monkeypatch, calls)
    # Two training batches of 4 slices; validation and test (4 slices) are not augmented.
    assert calls == [(4, 1, 32, 32), (4, 1, 32, 32)]
    assert torch.equal(weights, _train_detector(True))  # same seed, same weights
    assert not torch.equal(weights, _train_detector(False))
