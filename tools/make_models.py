"""Train the course's shipped models from their recipes and write them into the package (`make models`).

    python tools/make_models.py                 # every model in minigpt.zoo.SHIPPED
    python tools/make_models.py icl-2layer      # just one (make models NAME=icl-2layer)

Each model is written to minigpt/weights/NAME/ (model.safetensors, recipe.json, config.json, record.json)
all at once, so an interrupted run leaves the shipped model it was replacing as it was. Commit the folder.
"""
import argparse
import sys

from minigpt import zoo
from minigpt.cache import SHIPPED_DIR, save_model_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(zoo.SHIPPED)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in zoo.SHIPPED]
    if unknown:
        parser.error(f"no shipped model named {', '.join(unknown)}; the names are {', '.join(zoo.SHIPPED)}")
    rows = []
    for name in args.names or zoo.SHIPPED:
        entry = zoo.SHIPPED[name]
        print(f"training {name}: {entry.about}", flush=True)
        model, record = entry.train(entry.recipe, progress=True)
        save_model_dir(model, entry.recipe, record, SHIPPED_DIR / name)
        rows.append((name, record["parameters"], len(record["history"]["loss"]), record["seconds"], entry.key,
                     record["figures"][entry.key]))
        print(f"  wrote {SHIPPED_DIR / name}: " + ", ".join(f"{k} {v:.3f}" for k, v in record["figures"].items()),
              flush=True)
    print(f"\n{'name':<14} {'parameters':>10} {'steps':>6} {'seconds':>8}  key figure")
    for name, parameters, steps, seconds, key, value in rows:
        print(f"{name:<14} {parameters:>10,} {steps:>6} {seconds:>8.0f}  {key} {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
