"""flask timers sweep | scheduler, and flask jobs worker: running the deadline sweep and the rq workers."""
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.deadlines.sweep import run_pass, schedule_once

timers_cli = AppGroup("timers", help="到期定时器（提醒、升级、超时退回）")
jobs_cli = AppGroup("jobs", help="后台任务（rq）")


def _echo(result) -> None:
    click.echo(f"认领 {result.claimed}，触发 {result.fired}，失败 {len(result.failed)}，外发通知 {result.outbox_sent}")


@timers_cli.command("sweep")
def sweep():
    """执行一遍：认领到期的定时器并在本进程内逐个触发，再补发待发的外部通知。"""
    _echo(run_pass(current_app))


@timers_cli.command("scheduler")
@click.option("--interval", default=30.0, show_default=True, help="每隔多少秒扫描一次")
@click.option("--once", is_flag=True, help="只扫描一次就退出")
def scheduler(interval, once):
    """有 Redis 时：定期认领到期的定时器，每个申请交给 rq 工作进程（flask jobs worker）触发。"""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("未配置 REDIS_URL：请用 flask timers sweep，或在 make run 中由线程执行")
    while True:
        _echo(schedule_once(current_app._get_current_object(), clock.now()))
        if once:
            return
        time.sleep(interval)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="做完队列里的任务就退出")
def worker(burst):
    """启动 rq 工作进程（队列 township），执行到期定时器、模拟银行回单、外发通知等任务。"""
    from redis import Redis
    from rq import Queue, SimpleWorker

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("未配置 REDIS_URL")
    connection = Redis.from_url(url)
    # SimpleWorker runs jobs in this process: no fork sharing the database connections of the parent.
    SimpleWorker([Queue("township", connection=connection)], connection=connection).work(burst=burst)
