"""`flask match run|train|evaluate`: matching on the graph (扶持谁 / 谁来扶 / 怎么扶)."""
import json

import click
from flask.cli import AppGroup

from cli import context

match_group = AppGroup("match", help="匹配 / matching: run, train the model, evaluate")

county_option = click.option("--county", "counties", multiple=True, metavar="CODE",
                             help="12 位县代码（可重复），默认全部县 / 12-digit county code (repeatable); default: all")
seed_option = click.option("--seed", type=int, default=0, show_default=True, help="随机种子 / random seed")


@match_group.command("run")
@county_option
@click.option("--top-k", type=int, default=5, show_default=True, help="每户推荐数 / recommendations per household")
@click.option("--model", "model_version", metavar="VERSION", help="融合的学习模型版本 / learned model version to blend in")
@click.option("--alpha", type=float, default=1.0, show_default=True,
              help="规则分权重（1 = 只用规则）/ weight of the rule score (1 = rules only)")
@seed_option
@click.option("--force", is_flag=True, help="未变的县也重新计算 / recompute unchanged counties too")
def run_command(counties, top_k, model_version, alpha, seed, force):
    """运行匹配 / Run matching.

    Plans the counties whose inputs changed since their last run (all with --force) and stores the run.
    """
    from matching.run import MatchParams, MatchRunner

    params = MatchParams(top_k=top_k, alpha=alpha, model_version=model_version, seed=seed)
    runner = MatchRunner(context.driver(), context.settings(), progress=click.echo)
    run = runner.run(list(counties) or None, params, force=force)
    click.echo(json.dumps(run, ensure_ascii=False, indent=1, default=str))


@match_group.command("train")
@county_option
@seed_option
def train_command(counties, seed):
    """训练模型 / Train the learned scorer.

    Learns from past partnerships and saves a model version in var/models.
    """
    from matching.train import train_from_graph

    trained = train_from_graph(context.driver(), context.settings(), list(counties) or None, seed=seed)
    click.echo(f"模型版本 / model version: {trained.version}  ({trained.pairs:,} pairs, "
               f"{trained.positives:,} partnerships matched)")


@match_group.command("evaluate")
@county_option
@click.option("--k", type=int, default=5, show_default=True, help="评估前 k 名 / cut-off of the ranking metrics")
@click.option("--test-share", type=float, default=0.2, show_default=True,
              help="留出的最新联结比例 / share of the latest partnerships held out")
@seed_option
def evaluate_command(counties, k, test_share, seed):
    """评估推荐质量 / Evaluate recommendations.

    Holds out the latest partnerships and compares the model with the rules, the nearest and a random
    eligible enterprise (recall, precision, NDCG at k; coverage).
    """
    from matching.evaluate import evaluate_graph, format_results

    results = evaluate_graph(context.driver(), context.settings(), list(counties) or None, k=k,
                             test_share=test_share, seed=seed)
    inputs = results["_inputs"]
    click.echo(f"{inputs['households']} 户 households, {inputs['enterprises']} 家企业 enterprises, "
               f"{inputs['partnerships']} 条联结 partnerships")
    click.echo(format_results(results, k))
