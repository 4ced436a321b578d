"""What the production overlay promises about the containers themselves."""

import pytest

OUR_SERVICES = ("web", "algorithm", "algorithm_celery", "flower", "nginx")


@pytest.fixture(autouse=True)
def prod_only(profile):
    if profile != "prod":
        pytest.skip("a promise of docker-compose.prod.yml")


@pytest.mark.parametrize("service", OUR_SERVICES)
def test_our_containers_run_as_non_root(stack, service):
    result = stack.exec(service, "id", "-u")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != "0"


@pytest.mark.parametrize("service", OUR_SERVICES)
def test_our_root_filesystems_are_read_only(stack, service):
    result = stack.exec(service, "touch", "/probe")
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


def test_django_deploy_checks_are_clean(stack):
    # The check runs with the production defaults a real deployment gets, whatever this run set.
    result = stack.exec(
        "web",
        *("env", "-u", "DJANGO_SECURE_SSL_REDIRECT", "-u", "DJANGO_SECURE_COOKIES"),
        *("python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ml_api_refuses_calls_without_the_service_token(stack):
    probe = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        "    urllib.request.urlopen('http://algorithm:8000/models', timeout=5)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    result = stack.exec("web", "python", "-c", probe)
    assert result.stdout.strip() == "401", result.stdout + result.stderr


def test_the_ml_services_cannot_write_the_data_table(stack):
    probe = (
        "import os, psycopg\n"
        "with psycopg.connect(os.environ['DATABASE_URL']) as conn:\n"
        "    print(conn.execute('select count(*) from data').fetchone()[0] >= 0)\n"
        "    try:\n"
        "        conn.execute('delete from data')\n"
        "    except psycopg.errors.InsufficientPrivilege:\n"
        "        print('refused')\n"
    )
    result = stack.exec("algorithm_celery", "python", "-c", probe)
    assert result.stdout.split() == ["True", "refused"], result.stdout + result.stderr


def test_nginx_is_not_on_the_database_network(stack):
    probe = "exec 3<>/dev/tcp/db/5432"
    result = stack.exec("nginx", "bash", "-c", probe)
    assert result.returncode != 0
