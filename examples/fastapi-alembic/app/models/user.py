from sqlalchemy import BigInteger, Column, DateTime, Text, func

from app.core.database import Base


class User(Base):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "app_user"

    id = Column(BigInteger, primary_key=True)
    name = Column(Text, nullable=False)
    email = Column(Text, unique=True)
    display_name = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=func.now())
