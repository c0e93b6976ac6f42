from typing import List, Optional

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import get_session, get_sync_session
from app.models import User

router = APIRouter(prefix="/users", tags=["users"])


class UserIn(BaseModel):
    name: str
    email: Optional[str] = None
    display_name: Optional[str] = None


class UserOut(BaseModel):
    id: int
    name: str
    email: Optional[str] = None
    display_name: str


def to_out(user: User) -> UserOut:
    return UserOut(id=user.id, name=user.name, email=user.email, display_name=user.display_name)


@router.post("", response_model=UserOut, status_code=201)
async def create_user(body: UserIn, session: AsyncSession = Depends(get_session)) -> UserOut:
    user = User(name=body.name, email=body.email, display_name=body.display_name or body.name)
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return to_out(user)


@router.get("", response_model=List[UserOut])
async def list_users(session: AsyncSession = Depends(get_session)) -> List[UserOut]:
    result = await session.execute(select(User).order_by(User.id))
    return [to_out(u) for u in result.scalars().all()]


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: int) -> UserOut:
    # A synchronous session, kept off the event loop with run_in_threadpool.
    def load() -> Optional[User]:
        with get_sync_session() as session:
            return session.get(User, user_id)

    user = await run_in_threadpool(load)
    if user is None:
        raise HTTPException(status_code=404, detail="user not found")
    return to_out(user)
