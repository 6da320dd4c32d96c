from __future__ import annotations

import pytest
import torch
from torch import nn

from model import StanceConfig
from training.args import ArgsError, TrainingArgs
from training.trainer import CheckpointAverage, Trainer, _warmup_linear


def test_warmup_then_linear_decay():
    assert _warmup_linear(0, 4, 20) == pytest.approx(0.25)
    assert _warmup_linear(3, 4, 20) == pytest.approx(1.0)
    assert _warmup_linear(12, 4, 20) == pytest.approx(0.5)
    assert _warmup_linear(20, 4, 20) == 0.0


def test_few_steps_train_evaluate_and_calibrate(tiny_pairs):
    args = TrainingArgs(max_steps=3, batch_size=4, eval_every=1, patience=5, progress=False, seed=3)
    result = Trainer(StanceConfig(max_length=64), args, tiny_pairs, tiny_pairs[:6]).train()
    assert result.steps == 3
    evaluated = [h for h in result.history if "dev_macro_f1" in h]
    assert [h["step"] for h in evaluated] == [1, 2, 3]
    best = max(evaluated, key=lambda h: h["dev_macro_f1"])
    assert result.best_step == best["step"]
    assert result.classifier.config.temperature > 0
    assert set(result.dev_metrics) >= {"macro_f1", "accuracy", "ece", "per_class", "n"}
    assert result.dev_metrics["n"] == 6
    assert result.dev_metrics["accuracy"] == pytest.approx(
        result.dev_metrics_uncalibrated["accuracy"]
    ), "temperature scaling must not change argmax"


def test_checkpoint_average_is_the_uniform_mean_after_start():
    net = nn.Linear(2, 1)
    net.register_buffer("ids", torch.tensor([0, 1]))
    average = CheckpointAverage(start=1)
    for step, value in [(1, 100.0), (2, 1.0), (3, 2.0), (4, 6.0)]:
        with torch.no_grad():
            net.weight.fill_(value)
            net.bias.fill_(-value)
        net.ids += 1  # an integer buffer: the latest is kept, never averaged
        average.add(step, net)
    assert average.count == 3  # step 1 is not after start
    assert average.state["weight"].tolist() == [[3.0, 3.0]]
    assert average.state["bias"].tolist() == [-3.0]
    assert average.state["ids"].tolist() == [4, 5]


def test_average_last_keeps_the_average_and_never_stops_early(tiny_pairs):
    args = TrainingArgs(
        max_steps=4, batch_size=4, eval_every=1, patience=1, average_last=0.5, progress=False
    )
    result = Trainer(StanceConfig(max_length=64), args, tiny_pairs, tiny_pairs[:6]).train()
    assert (result.steps, result.best_step, result.averaged_checkpoints) == (4, 4, 2)
    assert [h["step"] for h in result.history if "dev_macro_f1" in h] == [1, 2, 3, 4]


def test_same_seed_same_model(tiny_pairs):
    args = TrainingArgs(max_steps=2, batch_size=4, progress=False, seed=11, calibrate=False)
    runs = [Trainer(StanceConfig(max_length=64), args, tiny_pairs).train() for _ in range(2)]
    query = tiny_pairs[0][0]
    a, b = (r.classifier.predict([query])[0].probabilities for r in runs)
    assert a == pytest.approx(b, abs=1e-6)


def test_class_weights_are_inverse_frequency(tiny_pairs):
    skewed = tiny_pairs + [p for p in tiny_pairs if p[1] == 0] * 3
    trainer = Trainer(StanceConfig(max_length=64), TrainingArgs(class_weights=True), skewed)
    items = [(None, label) for _, label in skewed]
    weights = trainer._class_weights(items)  # type: ignore[arg-type]
    assert weights is not None
    assert weights[0] < weights[1] == pytest.approx(weights[2])


def test_no_training_examples_is_an_error():
    with pytest.raises(ValueError, match="no training examples"):
        Trainer(StanceConfig(), TrainingArgs(), [])


# ----------------------------------------------------------------------------- distillation


def test_teacher_probabilities_are_the_teachers_mean(trained_model_dir, tiny_pairs):
    from model import StanceClassifier

    args = TrainingArgs(teachers=(str(trained_model_dir), str(trained_model_dir)))
    soft = Trainer(StanceConfig(max_length=64), args, tiny_pairs).teacher_probabilities()
    teacher = StanceClassifier.load(trained_model_dir)
    expected = [
        [p.probabilities[lab] for lab in teacher.labels]
        for p in teacher.predict([q for q, _ in tiny_pairs])
    ]
    assert soft is not None and soft.shape == (len(tiny_pairs), 3)
    assert [round(v, 6) for row in soft.tolist() for v in row] == [
        round(v, 6) for row in expected for v in row
    ]
    assert Trainer(StanceConfig(), TrainingArgs(), tiny_pairs).teacher_probabilities() is None


def test_distill_weight_zero_is_plain_training_and_nonzero_changes_it(
    trained_model_dir, tiny_pairs
):
    def probabilities(**extra):
        args = TrainingArgs(
            max_steps=2, batch_size=4, progress=False, seed=11, calibrate=False, **extra
        )
        result = Trainer(StanceConfig(max_length=64), args, tiny_pairs).train()
        return result.classifier.predict([tiny_pairs[0][0]])[0].probabilities

    plain = probabilities()
    teachers = (str(trained_model_dir),)
    assert probabilities(teachers=teachers, distill_weight=0.0) == pytest.approx(plain, abs=1e-6)
    distilled = probabilities(teachers=teachers, distill_weight=1.0)
    assert distilled != pytest.approx(plain, abs=1e-4)


def test_teacher_with_other_labels_is_refused(tmp_path, trained_model_dir, tiny_pairs):
    binary = [(q, 0 if label == 0 else 1) for q, label in tiny_pairs]
    config = StanceConfig(max_length=64, labels=("negative", "positive"))
    args = TrainingArgs(teachers=(str(trained_model_dir),))
    with pytest.raises(ArgsError) as info:  # the CLI reports it as a one-line error
        Trainer(config, args, binary).teacher_probabilities()
    assert str(info.value) == (
        f"teacher {trained_model_dir} has labels ['negative', 'neutral', 'positive'] but the "
        "model being trained has ['negative', 'positive']; use teachers with the same labels"
    )
