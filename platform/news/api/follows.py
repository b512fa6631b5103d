"""Follows: the acting member follows or unfollows another."""

from ninja import Router, Schema

from news import members
from news.api import auth
from news.api.schemas import Detail, UserOut

router = Router(tags=["follows"], auth=auth.member)


class FollowState(Schema):
    following: bool


@router.get("/users/{int:user_id}/follow", response=FollowState)
def follow_state(request: auth.MemberRequest, user_id: int):
    return {"following": members.is_following(request.auth.id, user_id)}


@router.post("/users/{int:user_id}/follow", response={200: UserOut, 404: Detail, 409: Detail})
def follow(request: auth.MemberRequest, user_id: int):
    """The acting member follows this one; returns the followed member."""
    return members.follow(request.auth.id, user_id)


@router.delete("/users/{int:user_id}/follow", response={200: UserOut, 404: Detail})
def unfollow(request: auth.MemberRequest, user_id: int):
    return members.unfollow(request.auth.id, user_id)
