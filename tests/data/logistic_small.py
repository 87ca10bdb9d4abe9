# Generates tests/data/logistic_small.csv: 40 rows, two features, labels drawn from a
# logistic model (so the classes overlap and the unregularised minimum exists too).
import math, random
random.seed(4)
print("x1,x2,label")
for i in range(40):
    a, b = random.gauss(0, 1), random.gauss(0, 1)
    p = 1 / (1 + math.exp(-(1.5 * a - 0.8 * b + 0.3)))
    print(f"{a:.6f},{b:.6f},{1 if random.random() < p else 0}")
