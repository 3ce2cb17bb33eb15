from scalelab.compress.claim import claim_evidence


def _row(label, role, method, size, s1, s32, acc):
    return {"label": label, "role": role, "method": method, "size_ratio": size, "speedup_b1_ratio": s1,
            "speedup_b32_ratio": s32, "accuracy_delta_points": acc}  # fmt: skip


def test_best_int8_student_decides_and_both_targets_are_checked():
    bench = {"rows": [
        _row("teacher", "teacher", "fp32", 1.0, 1.0, 1.0, 0.0),
        _row("student fp32", "student", "fp32", 0.3, 4.0, 4.0, -1.0),
        _row("student int8 a", "student", "int8-dynamic", 0.08, 5.0, 2.0, -1.5),
        _row("student int8 b", "student", "int8-static", 0.12, 2.5, 3.5, -2.0),
    ]}  # fmt: skip
    ev = claim_evidence(bench)
    assert ev is not None and ev.variant == "student int8 b"
    assert abs(ev.size_reduction_frac - 0.88) < 1e-9 and not ev.size_holds
    assert ev.speed_holds_at == [32]
    assert ev.verdict.startswith("partly holds")
    assert len(ev.candidates) == 2


def test_holds_only_when_size_and_speed_both_hold():
    bench = {
        "rows": [
            _row("t", "teacher", "fp32", 1, 1, 1, 0),
            _row("s", "student", "int8-dynamic", 0.05, 3.1, 6, -0.5),
        ]
    }
    assert claim_evidence(bench).verdict.startswith("holds")


def test_no_verdict_without_teacher_baseline_or_int8_student():
    assert claim_evidence({"rows": [_row("s", "student", "int8-dynamic", 0.1, 1, 1, 0)]}) is None
    assert claim_evidence({"rows": [_row("t", "teacher", "fp32", 1, 1, 1, 0)]}) is None
