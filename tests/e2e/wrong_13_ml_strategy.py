"""One realistic wrong implementation per graded function of 13_ml_strategy (see e2e_autograde)."""

WRONG = {
    "pick_model": '''
def pick_model(candidates, max_seconds, max_megabytes):
    best = None
    for candidate in candidates:
        if candidate["seconds"] <= max_seconds:  # the memory limit is forgotten
            if best is None or candidate["accuracy"] > best["accuracy"]:
                best = candidate
    if best is None:
        raise ValueError("no candidate fits")
    name = best["name"]
    return name
''',
    "error_gaps": '''
def error_gaps(human, train, train_dev, dev, test):
    gaps = {"avoidable_bias": train - human, "variance": dev - train,  # dev - train mixes in the mismatch
            "data_mismatch": dev - train_dev, "overfitting_to_dev": test - dev}
    return gaps
''',
    "error_ceilings": '''
def error_ceilings(tags, dev_error):
    if len(tags) == 0:
        raise ValueError("no mistakes")
    counts = {}
    for mistake in tags:
        for tag in set(mistake):
            counts[tag] = counts.get(tag, 0) + 1
    total = sum(counts.values())  # the number of tags, not the number of mistakes
    rows = []
    for tag in sorted(counts, key=lambda t: (-counts[t], t)):
        fraction = counts[tag] / total
        rows.append((tag, fraction, dev_error * (1 - fraction)))
    return rows
''',
    "weighted_error": '''
def weighted_error(y_true, y_pred, weights):
    wrong = (y_true != y_pred)
    error = float(np.sum(weights * wrong) / len(y_true))  # divided by m, not by the sum of the weights
    return error
''',
    "masked_sigmoid_cost": '''
def masked_sigmoid_cost(Z, Y, mask):
    losses = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
    cost = float(np.sum(mask * losses) / np.sum(mask))  # 0 * nan is nan where labels are unknown
    return cost
''',
}
