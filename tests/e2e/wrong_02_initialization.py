"""One realistic wrong implementation per graded function of 02_initialization (see e2e_autograde)."""

WRONG = {
    "initialize_zeros": '''
def initialize_zeros(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.zeros((layer_dims[l], layer_dims[l - 1]))
        parameters["b" + str(l)] = np.zeros(layer_dims[l])  # 1-D bias
    return parameters
''',
    "initialize_random": '''
def initialize_random(layer_dims, rng, scale=10.0):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * scale  # global RNG
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
''',
    "initialize_he": '''
def initialize_he(layer_dims, rng):
    parameters = {}
    for l in range(1, len(layer_dims)):
        std = np.sqrt(2 / layer_dims[l])  # fan-out instead of fan-in
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * std
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
''',
    "initialize_xavier": '''
def initialize_xavier(layer_dims, rng):
    parameters = {}
    for l in range(1, len(layer_dims)):
        std = np.sqrt(2 / layer_dims[l - 1])  # He's variance
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * std
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
''',
}
