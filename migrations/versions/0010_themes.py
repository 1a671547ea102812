"""themes of comments: what the classifier read in each free-text answer

- ``comment_label``: one row per classified comment (its polarity, whether it is urgent);
- ``comment_theme``: its themes, one row each, indexed by theme for the counts per theme.

Revision ID: 0009_themes
Revises: 0008_dossiers
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_themes'
down_revision = '0008_dossiers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'comment_label',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('polarity', sa.String(length=12), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('classified_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("polarity IN ('complaint', 'praise', 'suggestion', 'neutral')",
                           name=op.f('ck_comment_label_polarity')),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_comment_label_answer_id_answer'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('answer_id', name=op.f('pk_comment_label')),
    )
    op.create_table(
        'comment_theme',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['comment_label.answer_id'],
                                name=op.f('fk_comment_theme_answer_id_comment_label'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('answer_id', 'theme', name=op.f('pk_comment_theme')),
    )
    op.create_index('ix_comment_theme_theme', 'comment_theme', ['theme'])


def downgrade():
    op.drop_index('ix_comment_theme_theme', table_name='comment_theme')
    op.drop_table('comment_theme')
    op.drop_table('comment_label')
