from . import test_website_sale
