"""Create users, generations, ratings, training runs and model versions.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Integer keys on SQLite become aliases of the rowid; BIGINT would not.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
ACTIVE_RUN = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("first_name", sa.String(length=256), nullable=True),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("sampling_level", sa.String(length=16), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )

    op.create_table(
        "generations",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("prompt", sa.String(length=256), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("top_k", sa.Integer(), nullable=True),
        sa.Column("top_p", sa.Float(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_generations_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_generations"),
    )
    op.create_index("ix_generations_model_version", "generations", ["model_version"])
    op.create_index("ix_generations_user_id_created_at", "generations", ["user_id", "created_at"])

    op.create_table(
        "ratings",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("generation_id", ID, nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score_range"),
        sa.ForeignKeyConstraint(
            ["generation_id"], ["generations.id"],
            name="fk_ratings_generation_id_generations", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_ratings_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_ratings"),
        sa.UniqueConstraint("user_id", "generation_id", name="uq_ratings_user_id_generation_id"),
    )
    op.create_index("ix_ratings_generation_id", "ratings", ["generation_id"])
    op.create_index("ix_ratings_updated_at", "ratings", ["updated_at"])

    op.create_table(
        "training_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("schedule", "admin", name="run_trigger", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "running", "succeeded", "rejected", "failed", "interrupted",
                name="run_status", native_enum=False, create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("cancel_requested_at", TIMESTAMP, nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("worker_host", sa.String(length=255), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("checkpoint_path", sa.String(length=1024), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_training_runs"),
    )
    op.create_index("ix_training_runs_status", "training_runs", ["status"])
    # At most one queued or running run: every active row has the same key.
    op.create_index(
        "uq_training_runs_one_active",
        "training_runs",
        [sa.text("(1)")],
        unique=True,
        sqlite_where=ACTIVE_RUN,
        postgresql_where=ACTIVE_RUN,
    )

    op.create_table(
        "model_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("training_run_id", ID, nullable=True),
        sa.Column("promoted_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["training_run_id"], ["training_runs.id"],
            name="fk_model_versions_training_run_id_training_runs", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.UniqueConstraint("version", name="uq_model_versions_version"),
    )
    op.create_index("ix_model_versions_promoted_at", "model_versions", ["promoted_at"])


def downgrade() -> None:
    op.drop_table("model_versions")
    op.drop_table("training_runs")
    op.drop_table("ratings")
    op.drop_table("generations")
    op.drop_table("users")
