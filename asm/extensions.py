"""Every Flask extension, unbound; `create_app` binds them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flask_babel import Babel
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model here maps one table (SQLAlchemy types it as any FromClause)


db = SQLAlchemy(model_class=Model)
# The base of every table class. At run time it is `db.Model` (Model plus Flask-SQLAlchemy's session and table-name
# helpers); a type checker cannot take an attribute as a base class, so it is shown `Model` itself.
if TYPE_CHECKING:
    ModelBase = Model
else:
    ModelBase = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = HTMX()
babel = Babel()
