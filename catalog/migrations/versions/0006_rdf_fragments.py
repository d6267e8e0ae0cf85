"""RDF/XML and JSON-LD fragments per record, like the Turtle one, for fast catalogue exports.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from rdflib import Graph

from catalog.rdf_fragments import jsonld_fragment, xml_fragment

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("rdfxml", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("jsonld", sa.Text, nullable=False, server_default=""))
    bind = op.get_bind()
    resources = sa.table(
        "resources", sa.column("id"), sa.column("nt"), sa.column("rdfxml"), sa.column("jsonld")
    )
    last = 0
    while True:  # fill the existing records, a chunk at a time
        rows = bind.execute(
            sa.select(resources.c.id, resources.c.nt)
            .where(resources.c.id > last)
            .order_by(resources.c.id)
            .limit(500)
        ).all()
        if not rows:
            break
        for row_id, nt in rows:
            triples = list(Graph().parse(data=nt, format="nt"))
            bind.execute(
                resources.update()
                .where(resources.c.id == row_id)
                .values(rdfxml=xml_fragment(triples), jsonld=jsonld_fragment(triples))
            )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("jsonld")
        batch.drop_column("rdfxml")
