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
@click.option("--model", "model_version", metavar="auto|none|VERSION", default="auto", show_default=True,
              help="评分模型：auto = 当前模型（历史有变先训练），none = 只用规则，或某一版本 / "
                   "auto: the current model (trained first when the history changed); none: rules only; or a version")
@click.option("--alpha", type=float, default=None,
              help="规则分权重（1 = 只用规则；默认用模型按时间验证选定的权重）/ weight of the rule score "
                   "(default: the one chosen with the model)")
@seed_option
@click.option("--force", is_flag=True, help="未变的县也重新计算 / recompute unchanged counties too")
def run_command(counties, top_k, model_version, alpha, seed, force):
    """运行匹配 / Run matching.

    Plans the counties whose inputs changed since their last run (all with --force) and stores the run.
    """
    from matching.run import MatchParams, MatchRunner

    params = MatchParams(top_k=top_k, alpha=alpha, model_version=None if model_version == "none" else model_version,
                         seed=seed)
    runner = MatchRunner(context.driver(), context.settings(), progress=click.echo)
    run = runner.run(list(counties) or None, params, force=force)
    click.echo(json.dumps(run, ensure_ascii=False, indent=1, default=str))


@match_group.command("train")
@county_option
@seed_option
def train_command(counties, seed):
    """训练模型 / Train the model.

    Learns from the partnership history (a later window chooses the blend weight with the rules) and makes the
    model the one runs use by default. Runs train by themselves when the history changed.
    """
    from matching.model_store import train_current

    choice = train_current(context.driver(), context.settings(), list(counties) or None, seed=seed,
                           progress=click.echo)
    click.echo(f"模型版本 / model version: {choice.version or '（仅用规则 / rules only）'}  "
               f"规则权重 / alpha {choice.alpha}  {choice.note}")


@match_group.command("evaluate")
@county_option
@click.option("--test-share", type=float, default=0.2, show_default=True,
              help="留出的最新联结比例 / share of the latest partnerships held out")
@seed_option
def evaluate_command(counties, test_share, seed):
    """评估推荐质量 / Evaluate recommendations.

    Holds out the latest partnerships and compares the default run (model + rules, fitted on the history before
    the cut) with the rules alone, the nearest and a random eligible enterprise: recall@5, recall@10, NDCG@5,
    slots on pairs already partnered and rule-breaking recommendations, overall and per county.
    """
    from matching.evaluate import evaluate_graph, format_results

    results = evaluate_graph(context.driver(), context.settings(), list(counties) or None, test_share=test_share,
                             seed=seed)
    inputs = results["_inputs"]
    click.echo(f"{inputs['households']} 户 households, {inputs['enterprises']} 家企业 enterprises, "
               f"{inputs['partnerships']} 条联结 partnerships")
    click.echo(format_results(results))
