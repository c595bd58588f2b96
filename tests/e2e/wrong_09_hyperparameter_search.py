"""One realistic wrong implementation per graded function of 09_hyperparameter_search (see e2e_autograde)."""

WRONG = {
    "sample_log_uniform": '''
def sample_log_uniform(low, high, n, rng):
    values = 10.0 ** rng.uniform(np.log(low), np.log(high), size=n)  # natural log with powers of 10
    return values
''',
    "sample_beta": '''
def sample_beta(low, high, n, rng):
    betas = rng.uniform(low, high, size=n)  # beta uniform: 0.9..0.99 gets ten times the draws of 0.99..0.999
    return betas
''',
    "sample_configurations": '''
def sample_configurations(space, n, rng):
    configs = []
    for _ in range(n):
        config = {}
        for name, (low, high, scale) in space.items():
            if scale == "log":
                config[name] = float(10.0 ** rng.uniform(np.log10(low), np.log10(high)))
            elif scale == "beta":
                config[name] = float(1 - 10.0 ** rng.uniform(np.log10(1 - high), np.log10(1 - low)))
            elif scale == "int":
                config[name] = int(rng.integers(low, high))  # never returns high
            else:
                config[name] = float(rng.uniform(low, high))
        configs.append(config)
    return configs
''',
    "best_on_edge": '''
def best_on_edge(values, errors, low, high, scale="log", margin=0.1):
    best = np.asarray(values, dtype=float)[np.argmin(errors)]
    u = (best - low) / (high - low)  # measured on a linear scale whatever the scale
    if u <= margin:
        return "low"
    if u >= 1 - margin:
        return "high"
    return None
''',
    "zoom_range": '''
def zoom_range(values, errors, low, high, scale="log", k=3, pad=0.1):
    best = np.asarray(values, dtype=float)[np.argsort(errors)[:k]]
    width = high - low  # padding on a linear scale
    return float(max(best.min() - pad * width, low)), float(min(best.max() + pad * width, high))
''',
    "successive_halving": '''
def successive_halving(configs, evaluate, min_budget, max_budget, eta=2):
    alive = list(range(len(configs)))
    budget = min_budget
    history = []
    while True:
        errors = [evaluate(configs[i], budget) for i in alive]
        history.append({"budget": budget, "indices": alive, "errors": errors})
        if len(alive) == 1 or budget >= max_budget:
            break
        keep = max(1, -(-len(alive) // eta))  # ceil: keeps one too many when eta does not divide
        best = np.argsort(errors)[:keep]
        alive = [alive[j] for j in best]
        budget = min(budget * eta, max_budget)
    return history
''',
}
