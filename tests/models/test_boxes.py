"""Pure-torch box ops against hand-computed cases."""

import pytest
import torch

from nasbench.models.boxes import box_iou, giou_loss, nms, sigmoid_focal_loss


def test_box_iou_matches_hand_computed_overlaps():
    a = torch.tensor([[0.0, 0, 2, 2], [0, 0, 4, 4]])
    b = torch.tensor([[1.0, 1, 3, 3], [10, 10, 12, 12]])
    iou = box_iou(a, b)
    # [0,2]^2 vs [1,3]^2: overlap 1, union 4 + 4 - 1 = 7; [0,4]^2 vs [1,3]^2: 4 / 16.
    assert iou.shape == (2, 2)
    assert iou[0, 0] == pytest.approx(1 / 7) and iou[1, 0] == pytest.approx(0.25)
    assert float(iou[:, 1].abs().sum()) == 0.0


def test_giou_loss_is_zero_for_equal_boxes_and_counts_the_hull_for_disjoint_ones():
    same = giou_loss(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[0.0, 0, 2, 2]]))
    # Disjoint [0,1]x[0,1] and [2,3]x[0,1]: IoU 0, hull 3, union 2 -> GIoU = -1/3.
    apart = giou_loss(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[2.0, 0, 3, 1]]))
    assert float(same) == pytest.approx(0.0) and float(apart) == pytest.approx(4 / 3)


def test_nms_keeps_the_best_of_each_overlapping_group_best_first():
    boxes = torch.tensor([[0.0, 0, 10, 10], [50, 50, 60, 60], [1, 1, 11, 11], [0, 0, 10, 9]])
    scores = torch.tensor([0.6, 0.7, 0.9, 0.1])
    # Box 2 (0.9) suppresses 0 (IoU 81/119 = 0.68) and 3; box 1 stands alone.
    assert nms(boxes, scores, 0.5).tolist() == [2, 1]
    # A threshold above every IoU keeps them all, in score order.
    assert nms(boxes, scores, 0.99).tolist() == [2, 1, 0, 3]
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).numel() == 0


def test_focal_loss_down_weights_easy_examples():
    targets = torch.tensor([1.0, 0.0])
    easy = sigmoid_focal_loss(torch.tensor([4.0, -4.0]), targets)
    hard = sigmoid_focal_loss(torch.tensor([-4.0, 4.0]), targets)
    assert 0 < float(easy) < 1e-3 < float(hard)
