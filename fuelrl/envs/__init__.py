"""fuelrl.envs"""
