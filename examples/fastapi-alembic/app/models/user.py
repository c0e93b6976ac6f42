from sqlalchemy import BigInteger, Column, DateTime, Text, func

from app.core.database import Base


class User(Base):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "app_user"

    id = Column(BigInteger, primary_key=True)
    # The column is username since release 1.5 (revisions 0004 to 0006: expand, switch, contract;
    # README.md). The attribute keeps its name, so the API and the code that use it do not change.
    name = Column("username", Text, nullable=False)
    email = Column(Text, unique=True)
    display_name = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=func.now())
